namespace LRCMT.Training;

/// <summary>
/// Warm-up then decay, as a pure function of the optimizer step, so a resumed run only needs the step count.
/// Matches Hugging Face's <c>get_linear_schedule_with_warmup</c> / <c>get_cosine_schedule_with_warmup</c>:
/// step s (0-based) of warm-up runs at s / warmup of the base rate.
/// </summary>
internal sealed class LearningRateSchedule(LearningRateDecay decay, long warmupSteps, long totalSteps)
{
    public double Factor(long step)
    {
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        if (decay == LearningRateDecay.Constant) return 1.0;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return decay == LearningRateDecay.Linear
            ? Math.Max(0.0, 1.0 - progress)
            : Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
