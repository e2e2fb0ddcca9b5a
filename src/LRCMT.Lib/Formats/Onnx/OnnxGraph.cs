namespace LRCMT.Formats.Onnx;

/// <summary>The parts of an ONNX <c>GraphProto</c> a weight import needs: initializers and the node list.</summary>
internal sealed record OnnxGraph(IReadOnlyList<OnnxTensor> Initializers, IReadOnlyList<OnnxNode> Nodes);

/// <summary>One <c>NodeProto</c>: operator, input and output value names, and its attributes by name.</summary>
internal sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes);

/// <summary>One <c>AttributeProto</c>, keeping the value kinds a BERT graph uses.</summary>
internal sealed record OnnxAttribute(long? Int, float? Float, OnnxTensor? Tensor, IReadOnlyList<long> Ints);
