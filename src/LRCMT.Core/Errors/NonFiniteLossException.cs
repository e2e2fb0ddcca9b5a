namespace LRCMT.Errors;

/// <summary>
/// The training loss became NaN or infinite. Training stops at once; the last checkpoint written before this step is
/// left as it was, so the run can be resumed (e.g. with a lower learning rate).
/// </summary>
public sealed class NonFiniteLossException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    public NonFiniteLossException(int epoch, long step, double loss, IReadOnlyList<string> sampleIds)
        : base($"The training loss is {loss} at epoch {epoch + 1}, step {step} (batch of {string.Join(", ", sampleIds.Take(8))}{(sampleIds.Count > 8 ? ", ..." : "")}). " +
               "Training stopped; the last checkpoint is unchanged. Lower the learning rate, enable gradient clipping, or check the inputs for NaN/Inf.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
        SampleIds = sampleIds;
    }

    /// <summary>The epoch (0-based index; the message numbers epochs from 1, as every report does) in which the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>The global optimizer step (0-based) whose loss diverged.</summary>
    public long Step { get; }

    /// <summary>The loss value (NaN or ±infinity).</summary>
    public double Loss { get; }

    /// <summary>Ids of the samples in the offending batch.</summary>
    public IReadOnlyList<string> SampleIds { get; }
}
