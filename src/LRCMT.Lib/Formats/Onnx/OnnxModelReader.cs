using LRCMT.Errors;

namespace LRCMT.Formats.Onnx;

/// <summary>
/// Parses the ONNX protobuf (<c>ModelProto</c> → <c>GraphProto</c> → <c>NodeProto</c>/<c>TensorProto</c>) by field number
/// from onnx.proto; fields it does not need are skipped.
/// </summary>
internal static class OnnxModelReader
{
    public static OnnxGraph Read(byte[] bytes, string source)
    {
        var model = new ProtoReader(bytes, source);
        OnnxGraph? graph = null;
        while (model.TryReadTag(out var field, out var wire))
        {
            if (field == 7 && wire == WireType.LengthDelimited) graph = ReadGraph(model.ReadMessage());
            else model.Skip(wire);
        }

        return graph ?? throw new CorruptFileException(source, null, "the file holds no ONNX graph (ModelProto.graph); it is not an ONNX model.");
    }

    private static OnnxGraph ReadGraph(ProtoReader graph)
    {
        var initializers = new List<OnnxTensor>();
        var nodes = new List<OnnxNode>();
        while (graph.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited: nodes.Add(ReadNode(graph.ReadMessage())); break;
                case 5 when wire == WireType.LengthDelimited: initializers.Add(ReadTensor(graph.ReadMessage())); break;
                default: graph.Skip(wire); break;
            }
        }

        return new OnnxGraph(initializers, nodes);
    }

    private static OnnxNode ReadNode(ProtoReader node)
    {
        var (inputs, outputs) = (new List<string>(), new List<string>());
        var attributes = new Dictionary<string, OnnxAttribute>();
        var (name, opType) = ("", "");
        while (node.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: inputs.Add(node.ReadString()); break;
                case 2: outputs.Add(node.ReadString()); break;
                case 3: name = node.ReadString(); break;
                case 4: opType = node.ReadString(); break;
                case 5 when wire == WireType.LengthDelimited:
                    var (attributeName, attribute) = ReadAttribute(node.ReadMessage());
                    attributes[attributeName] = attribute;
                    break;
                default: node.Skip(wire); break;
            }
        }

        return new OnnxNode(opType, name, inputs, outputs, attributes);
    }

    private static (string Name, OnnxAttribute Value) ReadAttribute(ProtoReader attribute)
    {
        var name = "";
        long? integer = null;
        float? single = null;
        OnnxTensor? tensor = null;
        var ints = new List<long>();
        while (attribute.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: name = attribute.ReadString(); break;
                case 2 when wire == WireType.Fixed32: single = attribute.ReadFloat(); break;
                case 3 when wire == WireType.Varint: integer = attribute.ReadInt64(); break;
                case 5 when wire == WireType.LengthDelimited: tensor = ReadTensor(attribute.ReadMessage()); break;
                case 8: attribute.ReadInt64s(wire, ints); break;
                default: attribute.Skip(wire); break;
            }
        }

        return (name, new OnnxAttribute(integer, single, tensor, ints));
    }

    private static OnnxTensor ReadTensor(ProtoReader tensor)
    {
        var offset = tensor.Position;
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        var (name, dataType, external) = ("", OnnxDataType.Undefined, false);
        ReadOnlyMemory<byte>? raw = null;
        while (tensor.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: tensor.ReadInt64s(wire, dims); break;
                case 2 when wire == WireType.Varint: dataType = (OnnxDataType)tensor.ReadInt64(); break;
                case 4: tensor.ReadFloats(wire, floats); break;
                case 7: tensor.ReadInt64s(wire, longs); break;
                case 8: name = tensor.ReadString(); break;
                case 9: raw = tensor.ReadBytes(); break;
                case 13: external = true; tensor.Skip(wire); break;
                case 14 when wire == WireType.Varint: external |= tensor.ReadInt64() == 1; break;
                default: tensor.Skip(wire); break;
            }
        }

        if (dims.Any(d => d < 0))
            throw new CorruptFileException(tensor.Source, offset, $"tensor '{name}' has a negative dimension {ShapeMismatchException.Format(dims.ToArray())}.");
        return new OnnxTensor(name, dims.ToArray(), dataType, raw, floats, longs, external, offset);
    }
}
