using System.Globalization;
using Google.Protobuf;
using LRCMT.Formats.Onnx.Schema;
using TorchSharp;
using static TorchSharp.torch;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;

namespace LRCMT.Export;

/// <summary>
/// Collects the nodes, weights and typed inputs/outputs of one ONNX graph. Every name is derived from the module path
/// that asked for it and a per-path counter, never from a clock, a hash order or a random source, so the same model
/// always gives the same bytes. Value names are the producing node's name.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new();
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _initializerNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);

    /// <summary>Where weights of at least <see cref="ExternalThreshold"/> bytes go instead of the model file, or null (all inline).</summary>
    public ExternalWeights? External { get; init; }

    private const int ExternalThreshold = 1024;

    /// <summary>The graph as built so far.</summary>
    public GraphProto Graph => _graph;

    /// <summary>Declares a graph input with symbolic (dynamic) or fixed dimensions.</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as the graph output <paramref name="name"/> (an Identity names it).</summary>
    public void Output(string name, string value, DataType type, params object[] dims)
    {
        _graph.Node.Add(NewNode("Identity", name, [value], [name], []));
        _graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>Adds one node and returns its (single) output value.</summary>
    public string Op(string scope, string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var name = NextName(scope, opType);
        _graph.Node.Add(NewNode(opType, name, inputs, [name], attributes));
        return name;
    }

    /// <summary>Whether an initializer of that name exists (weights shared by several modules are written once).</summary>
    public bool HasInitializer(string name) => _initializerNames.Contains(name);

    /// <summary>A float32 weight named <paramref name="name"/> (the state-dict key it comes from).</summary>
    public string Weight(string name, Tensor value)
    {
        if (!_initializerNames.Add(name)) throw new InvalidOperationException($"Initializer '{name}' was added twice.");
        using var scope = NewDisposeScope();
        var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Float };
        proto.Dims.AddRange(cpu.shape);
        var bytes = cpu.bytes;
        if (External is { } external && bytes.Length >= ExternalThreshold) external.Add(proto, bytes);
        else proto.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>
    /// A linear layer's weight W [out, in] stored as Wᵀ [in, out], the layout <c>MatMul</c> takes, under
    /// <c>transposed::&lt;state-dict key&gt;</c>. Stored ready to use, ONNX Runtime has nothing to fold at load time
    /// (folding a transpose would hold a second copy of every weight while the session starts); the name still says
    /// which PyTorch parameter it is, and importers that name MatMul weights by the bias their Add uses (torch's
    /// export layout, <c>OnnxBertImporter</c>) read it back.
    /// </summary>
    public string TransposedWeight(string key, Tensor weight)
    {
        using var transposed = weight.detach().t();
        return Weight(TransposedPrefix + key, transposed);
    }

    /// <summary>The prefix of <see cref="TransposedWeight"/> initializer names.</summary>
    public const string TransposedPrefix = "transposed::";

    /// <summary>An int64 constant (shape, axes, indices), shared by every node that uses the same values.</summary>
    public string Int64s(params long[] values) => Constant("i64", values.Select(v => v.ToString(CultureInfo.InvariantCulture)), () =>
    {
        var proto = new TensorProto { DataType = (int)DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        return proto;
    });

    /// <summary>An int64 scalar constant (rank 0).</summary>
    public string Int64Scalar(long value) => Constant("i64s", [value.ToString(CultureInfo.InvariantCulture)], () =>
    {
        var proto = new TensorProto { DataType = (int)DataType.Int64 };
        proto.Int64Data.Add(value);
        return proto;
    });

    /// <summary>A float32 scalar constant (rank 0), shared like <see cref="Int64s"/>.</summary>
    public string Float(float value) => Constant("f32", [BitConverter.SingleToInt32Bits(value).ToString("x8", CultureInfo.InvariantCulture)], () =>
    {
        var proto = new TensorProto { DataType = (int)DataType.Float };
        proto.FloatData.Add(value);
        return proto;
    });

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Real(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private string Constant(string kind, IEnumerable<string> key, Func<TensorProto> create)
    {
        var name = $"const.{kind}.{string.Join("_", key)}";
        if (_constants.TryGetValue(name, out var existing)) return existing;
        var proto = create();
        proto.Name = name;
        _initializerNames.Add(name);
        _graph.Initializer.Add(proto);
        _constants[name] = name;
        return name;
    }

    private string NextName(string scope, string opType)
    {
        var key = $"{scope}/{opType}";
        _counters.TryGetValue(key, out var count);
        _counters[key] = count + 1;
        return count == 0 ? key : $"{key}_{count}";
    }

    private static NodeProto NewNode(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<AttributeProto> attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Dimension {dim} is neither a name nor a size.", nameof(dims)),
            });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}

/// <summary>
/// ONNX external data: weights written to a file beside the model, each at an offset aligned to 64 KiB (the largest
/// mapping granularity of the platforms ONNX Runtime runs on), so the runtime can map them into memory instead of
/// copying them out of the parsed model.
/// </summary>
internal sealed class ExternalWeights(Stream destination, string fileName)
{
    private const long Alignment = 64 * 1024;

    public void Add(TensorProto proto, ReadOnlySpan<byte> bytes)
    {
        var offset = (destination.Position + Alignment - 1) / Alignment * Alignment;
        while (destination.Position < offset) destination.WriteByte(0);
        destination.Write(bytes);
        proto.DataLocation = TensorProto.Types.DataLocation.External;
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = fileName });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(CultureInfo.InvariantCulture) });
    }
}
