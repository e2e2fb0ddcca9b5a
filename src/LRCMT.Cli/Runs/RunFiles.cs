namespace LRCMT.Cli.Runs;

/// <summary>The file names inside a run folder (documented in docs/getting-started.md).</summary>
internal static class RunFiles
{
    /// <summary>MMSA metrics of the test and validation splits, and per-epoch history.</summary>
    internal const string Metrics = "metrics.json";

    /// <summary>
    /// The selected epoch's score for every test sample, with its label, in the data's order (regression heads only): what
    /// <c>ablate</c>'s paired bootstrap resamples, kept so that <c>ablate --merge</c> can compare runs of separate processes.
    /// </summary>
    internal const string TestPredictions = "test-predictions.csv";

    /// <summary>The resolved configuration: every setting the run used, defaults included.</summary>
    internal const string Configuration = "config.json";

    /// <summary>The trained model at the selected epoch, as <c>LRCMTModel.Save</c> writes it (manifest, PEFT adapter, other weights).</summary>
    internal const string Model = "model";

    /// <summary>Previous release's layout (read by <c>eval</c> only): every trainable tensor by state-dict key.</summary>
    internal const string TrainableWeights = "trainable.safetensors";

    /// <summary>The trainer's last resumable checkpoint (weights, optimizer, scheduler, RNG, epoch).</summary>
    internal const string TrainerCheckpoint = "checkpoint";

    /// <summary>Loss and validation metric per epoch.</summary>
    internal const string Curves = "training-curves.png";

    /// <summary>An ablation folder's record (beside its variants' run folders): seeds, runs, comparisons; what <c>ablate --merge</c> reads.</summary>
    internal const string AblationRecord = "ablation.json";
}
