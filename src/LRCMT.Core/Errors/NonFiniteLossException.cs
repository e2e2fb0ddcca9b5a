namespace LRCMT.Errors;

/// <summary>
/// Training diverged: the training loss, or the model's output when the validation split is scored between epochs,
/// became NaN or infinite. Training stops at once; the last checkpoint written before this step is left as it was, so
/// the run can be resumed (e.g. with a lower learning rate).
/// </summary>
public sealed class NonFiniteLossException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The epoch (0-based).</param>
    /// <param name="step">The global optimizer step (0-based).</param>
    /// <param name="loss">The non-finite value.</param>
    /// <param name="sampleIds">Ids of the samples in the batch that gave it.</param>
    /// <param name="inValidation">True when the value is the model's output on a validation batch rather than the training loss.</param>
    public NonFiniteLossException(int epoch, long step, double loss, IReadOnlyList<string> sampleIds, bool inValidation = false)
        : base($"{(inValidation ? "The model's output on the validation split" : "The training loss")} is {loss} at epoch {epoch + 1}, step {step} " +
               $"(batch of {string.Join(", ", sampleIds.Take(8))}{(sampleIds.Count > 8 ? ", ..." : "")}). " +
               "Training stopped; the last checkpoint is unchanged. Lower the learning rate, enable gradient clipping, or check the inputs for NaN/Inf.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
        SampleIds = sampleIds;
        InValidation = inValidation;
    }

    /// <summary>Whether <see cref="Loss"/> is the model's output on a validation batch (scored between epochs) rather than the training loss.</summary>
    public bool InValidation { get; }

    /// <summary>The epoch (0-based index; the message numbers epochs from 1, as every report does) in which the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>The global optimizer step (0-based) whose loss diverged.</summary>
    public long Step { get; }

    /// <summary>The loss value (NaN or ±infinity).</summary>
    public double Loss { get; }

    /// <summary>Ids of the samples in the offending batch.</summary>
    public IReadOnlyList<string> SampleIds { get; }
}
