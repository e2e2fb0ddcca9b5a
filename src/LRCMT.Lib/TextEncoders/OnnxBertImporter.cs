using LRCMT.Training;
using LRCMT.Errors;
using LRCMT.TextEncoders.Bert;
using LRCMT.TextEncoders.Onnx;
using static TorchSharp.torch;
using LRCMT.Formats.Onnx;
using LRCMT.Configuration;

namespace LRCMT.TextEncoders;

/// <summary>
/// Builds a <see cref="BertModel"/> from a BERT exported to ONNX by <c>torch.onnx.export</c> (for example
/// sentence-transformers' all-MiniLM-L6-v2): the graph's initializers become the model's weights under Hugging Face
/// names, so the result can be fine-tuned (LoRA) like any Hugging Face checkpoint. Pair it with
/// <see cref="BertTextTokenizer.FromVocabFile(string, bool)"/> on the model's <c>vocab.txt</c>.
/// </summary>
public static class OnnxBertImporter
{
    /// <summary>Imports an ONNX file.</summary>
    /// <param name="onnxPath">The <c>.onnx</c> file (self-contained: no external data).</param>
    /// <param name="config">The model's config; when null it is inferred from the graph (sizes, heads, activation, epsilon).</param>
    /// <returns>The model in eval mode.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file (a FIFO, a device, a link loop) or is over the ONNX size limit.</exception>
    /// <exception cref="CorruptFileException">The file is truncated, not ONNX, or stores weights externally or in an unsupported type.</exception>
    /// <exception cref="InvalidConfigurationException">The config cannot be inferred, or the given one is invalid.</exception>
    /// <exception cref="CheckpointMismatchException">The graph's weights do not fit the config (missing, unexpected or mis-shaped keys).</exception>
    public static BertModel Load(string onnxPath, BertConfig? config = null) => Load(onnxPath, BaseDType.Float32, config);

    /// <summary>Imports an ONNX file with the base held in <paramref name="dtype"/> (converted or quantized weight by weight; a half or int8 base is frozen).</summary>
    /// <param name="onnxPath">The <c>.onnx</c> file (self-contained: no external data).</param>
    /// <param name="dtype">How the base's weights are held.</param>
    /// <param name="config">The model's config; when null it is inferred from the graph.</param>
    /// <inheritdoc cref="Load(string, BertConfig?)" path="/returns"/>
    /// <inheritdoc cref="Load(string, BertConfig?)" path="/exception"/>
    public static BertModel Load(string onnxPath, BaseDType dtype, BertConfig? config = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        SettingRules.ThrowIf("base dtype", SettingRules.Defined("dtype", dtype));
        if (!IO.InputFile.IsPresent(onnxPath)) throw new FileNotFoundException($"ONNX model '{onnxPath}' does not exist.", onnxPath);
        return Load(IO.InputFile.ReadAllBytes(onnxPath, IO.InputKind.Onnx), onnxPath, config, dtype);
    }

    /// <summary>Imports an ONNX model from a stream (read to its end, not disposed, at most the ONNX input limit), e.g. an embedded resource.</summary>
    /// <param name="onnx">The model bytes.</param>
    /// <param name="sourceName">Names the model in error messages.</param>
    /// <param name="config">The model's config; when null it is inferred from the graph.</param>
    /// <inheritdoc cref="Load(string, BertConfig?)" path="/returns"/>
    /// <inheritdoc cref="Load(string, BertConfig?)" path="/exception"/>
    public static BertModel Load(Stream onnx, string sourceName, BertConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        return Load(ReadToEnd(onnx, sourceName), sourceName, config, BaseDType.Float32);
    }

    /// <summary>The graph's weights under Hugging Face <c>BertModel</c> names (weights transposed to torch layout).</summary>
    internal static Dictionary<string, Tensor> ReadStateDict(byte[] onnx, string sourceName, out OnnxGraph graph)
    {
        graph = OnnxModelReader.Read(onnx, sourceName);
        return OnnxBertStateDict.Build(graph, sourceName);
    }

    // Seekable streams (files, embedded resources) are read straight into one array of the right size, after their
    // length is checked against the ONNX input limit; others through the bounded reader, which stops past the limit.
    private static byte[] ReadToEnd(Stream stream, string sourceName)
    {
        if (!stream.CanSeek) return IO.InputFile.ReadAllBytes(stream, IO.InputKind.Onnx, sourceName);
        var remaining = stream.Length - stream.Position;
        var limit = IO.InputFile.Limit(IO.InputKind.Onnx, sourceName);
        if (remaining > limit)
            throw new InputFileException(sourceName, $"it holds {remaining:N0} bytes; an ONNX model may hold at most {limit:N0} " +
                                                     $"(raise the limit with the environment variable {IO.InputFile.LimitVariable(IO.InputKind.Onnx)}).");
        var bytes = new byte[remaining];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new CorruptFileException(sourceName, stream.Position, "the stream ended before the length it reported.", e);
        }
        return bytes;
    }

    private static BertModel Load(byte[] onnx, string sourceName, BertConfig? config, BaseDType dtype)
    {
        NativeHeap.EncoderLoading(); // before the graph's weights are read: see NativeHeap's remarks
        try
        {
            var named = ReadStateDict(onnx, sourceName, out var graph);
            try
            {
                var (weights, _) = BertCheckpointKeys.Split(named);
                config ??= OnnxBertConfigInference.Infer(graph, weights, sourceName);
                return BertCheckpointLoader.CreateLoaded(config, weights, sourceName, dtype);
            }
            finally
            {
                foreach (var tensor in named.Values) tensor.Dispose();
            }
        }
        // A graph that parses as protobuf but is not a BERT export (nodes without inputs, odd names, weights of the
        // wrong rank) must still fail as a typed error naming the file, never as an index error or a libtorch dump.
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or FormatException or OverflowException
                                      or InvalidOperationException or KeyNotFoundException or System.Runtime.InteropServices.ExternalException)
        {
            throw new CorruptFileException(sourceName, null, $"the ONNX graph is not a BERT encoder export this importer understands ({e.GetType().Name}: {e.Message})", e);
        }
    }
}
