using Google.Protobuf;
using LRCMT.Errors;
using LRCMT.Formats.Onnx.Schema;

namespace LRCMT.Formats.Onnx;

/// <summary>
/// Parses an ONNX file with Google.Protobuf into the messages of <c>OnnxSchema.proto</c> and keeps what a weight
/// import needs (<see cref="OnnxGraph"/>). Protobuf errors become <see cref="CorruptFileException"/> with the byte offset
/// where parsing stopped.
/// </summary>
internal static class OnnxModelReader
{
    /// <summary>Parses a whole model file.</summary>
    /// <exception cref="CorruptFileException">The bytes are not a protobuf message or are truncated.</exception>
    public static ModelProto ParseModel(byte[] bytes, string source)
    {
        var input = new CodedInputStream(bytes);
        var model = new ModelProto();
        try
        {
            model.MergeFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            var truncated = e.Message.Contains("ended unexpectedly", StringComparison.Ordinal) || e.Message.Contains("truncated", StringComparison.Ordinal);
            throw new CorruptFileException(source, input.Position,
                truncated ? "the file is truncated: a protobuf field runs past its end." : $"the file is not a valid ONNX protobuf ({e.Message}).", e);
        }

        return model;
    }

    public static OnnxGraph Read(byte[] bytes, string source)
    {
        var graph = ParseModel(bytes, source).Graph
            ?? throw new CorruptFileException(source, null, "the file holds no ONNX graph (ModelProto.graph); it is not an ONNX model.");
        return new OnnxGraph(
            graph.Initializer.Select(t => ToTensor(t, source)).ToList(),
            graph.Node.Select(n => ToNode(n, source)).ToList());
    }

    private static OnnxNode ToNode(NodeProto node, string source)
    {
        var attributes = new Dictionary<string, OnnxAttribute>();
        foreach (var attribute in node.Attribute)
        {
            attributes[attribute.Name] = new OnnxAttribute(
                attribute.HasI ? attribute.I : null,
                attribute.HasF ? attribute.F : null,
                attribute.T is { } tensor ? ToTensor(tensor, source) : null,
                attribute.Ints.ToList());
        }

        return new OnnxNode(node.OpType, node.Name, node.Input.ToList(), node.Output.ToList(), attributes);
    }

    private static OnnxTensor ToTensor(TensorProto tensor, string source)
    {
        var dims = tensor.Dims.ToArray();
        if (dims.Any(d => d < 0))
            throw new CorruptFileException(source, null, $"tensor '{tensor.Name}' has a negative dimension {ShapeMismatchException.Format(dims)}.");
        var external = tensor.ExternalData.Count > 0 || tensor.DataLocation == TensorProto.Types.DataLocation.External;
        return new OnnxTensor(tensor.Name, dims, (OnnxDataType)tensor.DataType, tensor.HasRawData ? tensor.RawData.Memory : (ReadOnlyMemory<byte>?)null,
            tensor.FloatData, tensor.Int64Data, external, null);
    }
}
