using System.Text.Json;
using System.Text.Json.Serialization;
using LRCMT.Errors;

namespace LRCMT.Onnx;

/// <summary>
/// The small JSON file written beside an exported model (<c>model.onnx</c> → <c>model.json</c>): its inputs and outputs,
/// the tokenizer that makes its text inputs and what its prediction means, so a service can run it without LRCMT.Lib.
/// </summary>
public sealed record OnnxModelManifest
{
    /// <summary>The format of this file; readers refuse a newer one.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Version of this file's layout.</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The ONNX file, relative to this file's folder.</summary>
    public required string ModelFile { get; init; }

    /// <summary>The ONNX operator set the graph uses.</summary>
    public required int Opset { get; init; }

    /// <summary>The graph's inputs, in order.</summary>
    public required IReadOnlyList<OnnxTensorInfo> Inputs { get; init; }

    /// <summary>The graph's outputs, in order.</summary>
    public required IReadOnlyList<OnnxTensorInfo> Outputs { get; init; }

    /// <summary>How to tokenize text for <see cref="OnnxInputNames.InputIds"/>, or null when the exporter did not know.</summary>
    public OnnxTokenizerInfo? Tokenizer { get; init; }

    /// <summary>What <see cref="OnnxInputNames.Prediction"/> means, or null for a text encoder.</summary>
    public OnnxLabelInfo? Labels { get; init; }

    /// <summary>The manifest path for a model file: the same name with <c>.json</c> instead of <c>.onnx</c>.</summary>
    public static string PathFor(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return System.IO.Path.ChangeExtension(modelPath, ".json");
    }

    /// <summary>Writes the manifest as indented JSON (written to a temporary file and renamed, so no half file is left).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var temporary = path + ".partial";
        IO.OutputFile.Write(path, () =>
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(this, Options));
            File.Move(temporary, path, overwrite: true);
        });
    }

    /// <summary>Reads and checks a manifest.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file (a FIFO, a device, a link loop) or is over its size limit.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8, not a manifest of a format this library reads, or a field is missing.</exception>
    public static OnnxModelManifest Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!IO.InputFile.IsPresent(path)) throw new FileNotFoundException($"The model manifest '{path}' does not exist.", path);
        OnnxModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<OnnxModelManifest>(IO.InputFile.ReadAllUtf8(path, IO.InputKind.ModelManifest).Span, Options);
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, null, $"not a model manifest: {e.Message}", e);
        }
        if (manifest is null) throw new CorruptFileException(path, null, "the file holds no manifest (null).");
        if (manifest.Format is < 1 or > CurrentFormat)
            throw new CorruptFileException(path, null, $"manifest format {manifest.Format} is not one this library reads (1..{CurrentFormat}).");
        if (string.IsNullOrWhiteSpace(manifest.ModelFile) || manifest.Inputs is null || manifest.Outputs is null || manifest.Inputs.Count == 0 || manifest.Outputs.Count == 0)
            throw new CorruptFileException(path, null, "the manifest lacks modelFile, inputs or outputs.");
        return manifest;
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}

/// <summary>How the exported model's text was tokenized in training.</summary>
/// <param name="Family">The tokenizer family: <c>bert</c> (WordPiece; load the folder with <c>BertTextTokenizer.FromFolder</c>).</param>
/// <param name="Folder">A Hugging Face tokenizer folder (<c>tokenizer.json</c>, or <c>vocab.txt</c> with an optional
/// <c>tokenizer_config.json</c>), relative to the manifest's folder.</param>
/// <param name="MaxTokens">Most tokens per text, special tokens included, as in training.</param>
/// <param name="PadTokenId">The id that pads shorter texts in a batch.</param>
public sealed record OnnxTokenizerInfo(string Family, string Folder, int MaxTokens, int PadTokenId);

/// <summary>What the prediction of an exported LRCMT means.</summary>
/// <param name="Head"><c>regression</c> (one sentiment score per sample) or <c>classification</c> (one logit per class).</param>
/// <param name="Dataset">The dataset whose label scale and class convention the model was trained on (<c>Mosi</c> and
/// <c>Mosei</c>: scores in [−3, 3]; <c>Sims</c>: [−1, 1]), when known.</param>
/// <param name="Classes">Number of classes of a classification head (0 for regression).</param>
public sealed record OnnxLabelInfo(string Head, string? Dataset, int Classes);
