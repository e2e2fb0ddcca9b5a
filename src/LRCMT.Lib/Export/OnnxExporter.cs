using System.Reflection;
using Google.Protobuf;
using LRCMT.Errors;
using LRCMT.Formats.Onnx.Schema;
using LRCMT.Models;
using LRCMT.Onnx;
using LRCMT.TextEncoders;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;

namespace LRCMT.Export;

/// <summary>
/// Writes models as ONNX files that ONNX Runtime (or any ONNX runtime) runs without libtorch: a whole
/// <see cref="LRCMTModel"/>, or a <see cref="BertModel"/> / <see cref="RobertaModel"/> on its own. LoRA adapters are
/// folded into the weights they adapt (merged ones are already there); dropout is left out (inference). Opset
/// <see cref="Opset"/>, float32, dynamic batch and sequence axes on every input; input and output names are those of
/// <see cref="OnnxInputNames"/>. The same model always gives the same bytes.
/// </summary>
/// <remarks>
/// The exporter walks the module tree and writes each module it knows as the operations of its forward pass; a module
/// it does not know (a custom text encoder, an extra child, another projection type) is refused with
/// <see cref="UnsupportedModuleException"/> naming its path and type, never written approximately. The exported
/// weights keep their state-dict names; linear weights are stored transposed as <c>transposed::&lt;key&gt;</c>.
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set of exported graphs.</summary>
    public const int Opset = 17;

    // ONNX IR version 8 is the one that goes with opset 17.
    private const long IrVersion = 8;

    /// <summary>Exports a whole LRCMT model: text, acoustic and visual inputs → <c>prediction</c>.</summary>
    /// <param name="model">The model (left as it is: adapters stay unmerged, the training mode unchanged).</param>
    /// <param name="path">The <c>.onnx</c> file to write (replaced if it exists; written to a temporary file first).</param>
    /// <returns>The file's inputs and outputs.</returns>
    /// <param name="options">How to write the file (default: one self-contained file).</param>
    /// <exception cref="UnsupportedModuleException">A module of the model has no ONNX form in the exporter.</exception>
    public static OnnxExportResult Export(LRCMTModel model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Write(path, options ?? new OnnxExportOptions(), "lrcmt", builder =>
        {
            var inputs = new List<OnnxTensorInfo>();
            var outputs = LrcmtGraph.Emit(builder, model, inputs);
            return (inputs, outputs);
        });
    }

    /// <summary>
    /// Exports a text encoder: <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> → <c>last_hidden_state</c>
    /// and, when the encoder has a pooler, <c>pooler_output</c> (Hugging Face's names).
    /// </summary>
    /// <param name="encoder">A <see cref="BertModel"/> or <see cref="RobertaModel"/>, with or without LoRA adapters.</param>
    /// <param name="path">The <c>.onnx</c> file to write (replaced if it exists; written to a temporary file first).</param>
    /// <param name="options">How to write the file (default: one self-contained file).</param>
    /// <inheritdoc cref="Export(LRCMTModel, string, OnnxExportOptions?)" path="/returns"/>
    /// <inheritdoc cref="Export(LRCMTModel, string, OnnxExportOptions?)" path="/exception"/>
    public static OnnxExportResult Export(TextEncoder encoder, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Write(path, options ?? new OnnxExportOptions(), encoder.GetType().Name, builder => Encoder(builder, encoder));
    }

    private static (List<OnnxTensorInfo>, IReadOnlyList<OnnxTensorInfo>) Encoder(OnnxGraphBuilder builder, TextEncoder encoder)
    {
        var scope = new GraphScope(builder, "");
        string[] dims = ["batch", "text_length"];
        var inputs = new List<OnnxTensorInfo>
        {
            new(OnnxInputNames.InputIds, "int64", dims, "token ids"),
            new(OnnxInputNames.AttentionMask, "int64", dims, "1 = real token, 0 = padding"),
            new(OnnxInputNames.TokenTypeIds, "int64", dims, "segment ids (all 0 for one sentence)"),
        };
        foreach (var input in inputs) builder.Input(input.Name, DataType.Int64, "batch", "text_length");
        var result = TextEncoderGraph.Emit(scope, encoder, OnnxInputNames.InputIds, OnnxInputNames.AttentionMask, OnnxInputNames.TokenTypeIds, pooled: true);

        var outputs = new List<OnnxTensorInfo>();
        builder.Output(OnnxInputNames.LastHiddenState, result.LastHiddenState, DataType.Float, "batch", "text_length", (long)encoder.HiddenSize);
        outputs.Add(new(OnnxInputNames.LastHiddenState, "float32", ["batch", "text_length", $"{encoder.HiddenSize}"], "token states"));
        if (result.PooledOutput is { } pooled)
        {
            builder.Output(OnnxInputNames.PoolerOutput, pooled, DataType.Float, "batch", (long)encoder.HiddenSize);
            outputs.Add(new(OnnxInputNames.PoolerOutput, "float32", ["batch", $"{encoder.HiddenSize}"], "pooled sentence vector"));
        }
        return (inputs, outputs);
    }

    private static OnnxExportResult Write(string path, OnnxExportOptions options, string graphName,
        Func<OnnxGraphBuilder, (List<OnnxTensorInfo> Inputs, IReadOnlyList<OnnxTensorInfo> Outputs)> emit)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } folder) Directory.CreateDirectory(folder);
        var dataPath = OnnxExportOptions.WeightsFileFor(full);
        var dataTemporary = dataPath + ".partial";
        try
        {
            OnnxGraphBuilder builder;
            List<OnnxTensorInfo> inputs;
            IReadOnlyList<OnnxTensorInfo> outputs;
            using (var data = options.ExternalWeights ? File.Create(dataTemporary) : null)
            {
                builder = new OnnxGraphBuilder { External = data is null ? null : new ExternalWeights(data, Path.GetFileName(dataPath)) };
                (inputs, outputs) = emit(builder);
            }
            var result = WriteModel(builder, graphName, full, inputs, outputs);
            if (options.ExternalWeights) File.Move(dataTemporary, dataPath, overwrite: true);
            else if (File.Exists(dataPath)) File.Delete(dataPath); // a weights file beside would belong to an older export of this file
            return result;
        }
        finally
        {
            if (File.Exists(dataTemporary)) File.Delete(dataTemporary);
        }
    }

    private static OnnxExportResult WriteModel(OnnxGraphBuilder builder, string graphName, string full, List<OnnxTensorInfo> inputs, IReadOnlyList<OnnxTensorInfo> outputs)
    {
        builder.Graph.Name = graphName;
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "LRCMT.Lib",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Graph = builder.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });

        // Protobuf messages cannot exceed 2 GB; larger models would need ONNX external data, which is not written.
        long size = model.CalculateSize();
        if (size > int.MaxValue)
            throw new InvalidConfigurationException("ONNX export", $"the model needs {size} bytes, more than the 2 GB a self-contained ONNX file can hold.");

        var temporary = full + ".partial";
        using (var stream = File.Create(temporary))
        {
            model.WriteTo(stream);
        }
        File.Move(temporary, full, overwrite: true);
        return new OnnxExportResult(full, Opset, inputs, outputs, size);
    }
}

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
/// <param name="ExternalWeights">
/// Write the weights to <c>&lt;file&gt;.data</c> beside the model (ONNX external data, each tensor 64 KiB-aligned) instead
/// of inside it. ONNX Runtime then maps them into memory rather than copying them out of the parsed file, which roughly
/// halves its peak memory while a session starts; the two files travel together. Default: one self-contained file.
/// </param>
public sealed record OnnxExportOptions(bool ExternalWeights = false)
{
    /// <summary>The external weights file of a model file: <c>model.onnx</c> → <c>model.onnx.data</c>.</summary>
    public static string WeightsFileFor(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return modelPath + ".data";
    }
}

/// <summary>What <see cref="OnnxExporter"/> wrote.</summary>
/// <param name="Path">The ONNX file (full path).</param>
/// <param name="Opset">Its operator set.</param>
/// <param name="Inputs">Its inputs, in order.</param>
/// <param name="Outputs">Its outputs, in order.</param>
/// <param name="Bytes">Its size.</param>
public sealed record OnnxExportResult(string Path, int Opset, IReadOnlyList<OnnxTensorInfo> Inputs, IReadOnlyList<OnnxTensorInfo> Outputs, long Bytes);
