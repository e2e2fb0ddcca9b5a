namespace LRCMT.Errors;

/// <summary>
/// A saved model is being loaded onto a text encoder whose weights or configuration differ from the one it was trained on
/// (their SHA-256 hashes differ), so its adapter and fusion weights would not mean what they meant in training.
/// </summary>
public sealed class BaseEncoderMismatchException : LrcmtException
{
    /// <summary>Creates the exception; the message names the folder, the recorded source and both hashes of the weights.</summary>
    public BaseEncoderMismatchException(string modelFolder, string? recordedSource, string expectedSha256, string actualSha256)
        : this(modelFolder, recordedSource, expectedSha256, actualSha256, "weights") { }

    /// <summary>Creates the exception for one part of the base encoder; the message names the folder, the recorded source, the part and both hashes.</summary>
    /// <param name="modelFolder">The saved model's folder.</param>
    /// <param name="recordedSource">Where the model's description says the base encoder is, or null when it was given in code.</param>
    /// <param name="expectedSha256">The hash recorded when the model was saved.</param>
    /// <param name="actualSha256">The hash of the encoder offered at load time.</param>
    /// <param name="part">What was hashed: "weights", or "configuration (config.json: activation, epsilon, heads, sizes)".</param>
    public BaseEncoderMismatchException(string modelFolder, string? recordedSource, string expectedSha256, string actualSha256, string part)
        : base($"The model in '{modelFolder}' was trained on the text encoder {(recordedSource is null ? "given in code" : $"'{recordedSource}'")} " +
               $"whose {part} hash to SHA-256 {expectedSha256}, but the encoder it is being loaded onto hashes to {actualSha256}. " +
               "Load it with the same base encoder it was trained on.")
    {
        ModelFolder = modelFolder;
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The saved model's folder.</summary>
    public string ModelFolder { get; }

    /// <summary>The hash recorded when the model was saved.</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The hash of the encoder offered at load time.</summary>
    public string ActualSha256 { get; }
}
