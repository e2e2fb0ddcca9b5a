using System.Text;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Writes small ONNX files by field number (onnx.proto), independently of the library's reader, so tests can build
/// graphs shaped like torch's BERT export and damaged variants of them.
/// </summary>
internal sealed class OnnxTestModelWriter
{
    private readonly List<byte[]> nodes = [];
    private readonly List<byte[]> initializers = [];

    public void Initializer(string name, Tensor value, bool asFloatData = false, bool external = false)
    {
        var floats = value.contiguous().data<float>().ToArray();
        initializers.Add(TensorProto(name, value.shape, 1, w =>
        {
            if (external) w.Int(14, 1);
            else if (asFloatData) w.Bytes(4, floats.SelectMany(BitConverter.GetBytes).ToArray());
            else w.Bytes(9, floats.SelectMany(BitConverter.GetBytes).ToArray());
        }));
    }

    public void RawInitializer(string name, long[] dims, byte[] raw, int dataType = 1) => initializers.Add(TensorProto(name, dims, dataType, w => w.Bytes(9, raw)));

    public void Int64Constant(string output, long value) =>
        Node("Constant", [], [output], ("value", w => w.Message(5, TensorProto("", [1], 7, t => t.Bytes(9, BitConverter.GetBytes(value))))));

    public void FloatConstant(string output, float value) =>
        Node("Constant", [], [output], ("value", w => w.Message(5, TensorProto("", [], 1, t => t.Bytes(9, BitConverter.GetBytes(value))))));

    public void Node(string opType, string[] inputs, string[] outputs, params (string Name, Action<Writer> Value)[] attributes)
    {
        var node = new Writer();
        foreach (var input in inputs) node.String(1, input);
        foreach (var output in outputs) node.String(2, output);
        node.String(4, opType);
        foreach (var (name, value) in attributes)
        {
            node.Message(5, Build(a =>
            {
                a.String(1, name);
                value(a);
            }));
        }

        nodes.Add(node.ToArray());
    }

    public byte[] ToArray()
    {
        var graph = new Writer();
        foreach (var node in nodes) graph.Message(1, node);
        graph.String(2, "test-graph");
        foreach (var tensor in initializers) graph.Message(5, tensor);
        var model = new Writer();
        model.Int(1, 7);
        model.String(2, "pytorch");
        model.Message(7, graph.ToArray());
        return model.ToArray();
    }

    private static byte[] TensorProto(string name, long[] dims, int dataType, Action<Writer> data) => Build(w =>
    {
        foreach (var d in dims) w.Int(1, d);
        w.Int(2, dataType);
        w.String(8, name);
        data(w);
    });

    private static byte[] Build(Action<Writer> write)
    {
        var writer = new Writer();
        write(writer);
        return writer.ToArray();
    }

    internal sealed class Writer
    {
        private readonly MemoryStream stream = new();

        public void Int(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
        }

        public void Bytes(int field, byte[] value)
        {
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)value.Length);
            stream.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, byte[] message) => Bytes(field, message);

        public byte[] ToArray() => stream.ToArray();

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            stream.WriteByte((byte)value);
        }
    }
}
