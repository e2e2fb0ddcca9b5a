using LRCMT.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;

namespace LRCMT.Export;

/// <summary>A sequence in the graph with its bool key-padding mask (true = real): <see cref="MaskedSequence"/> as graph values.</summary>
internal readonly record struct MaskedValue(string Values, string Mask);

/// <summary>
/// The fusion modules as ONNX (<see cref="ModalityProjection"/>, <see cref="CrossModalEncoder"/> with its blocks and
/// attention, the relative-time bias, masked mean pooling (<see cref="MaskedSequence.Mean"/>)): each method is the forward pass of its module
/// at inference (dropout is the identity), operation for operation.
/// </summary>
internal static class FusionGraph
{
    /// <summary>Padding frames zeroed, then the bias-free temporal convolution to the fusion width.</summary>
    public static string Projection(GraphScope scope, ModalityProjection projection, MaskedValue input)
    {
        ModuleTree.RequireOnly(projection, scope, ["conv"]);
        var conv = ModuleTree.Child<Conv1d>(projection, scope, "conv");
        var convScope = scope.Child("conv");
        var kernel = conv.kernel_size[0];
        if (conv.bias is not null || conv.stride[0] != 1 || conv.dilation[0] != 1 || conv.groups != 1
            || conv.padding_mode != PaddingModes.Zeros || conv.padding is not [var padding] || padding != kernel / 2)
            throw ModuleTree.Unsupported(convScope, conv, "the exporter writes ModalityProjection's own convolution only (no bias, stride 1, 'same' zero padding).");

        var x = scope.MaskedFill(input.Values, scope.Op("Not", scope.Unsqueeze(input.Mask, 2)), 0f);
        if (kernel == 1)
        {
            // A kernel of one frame is a per-frame linear map: the [width, in, 1] weight is written as a linear one.
            using var weight = conv.weight!.detach().squeeze(2);
            return scope.Linear(x, scope.Builder.TransposedWeight(convScope.Key("weight"), weight), null);
        }
        var w = scope.Builder.Weight(convScope.Key("weight"), conv.weight!);
        var convolved = convScope.Op("Conv", [scope.Transpose(x, 0, 2, 1), w],
            OnnxGraphBuilder.Ints("kernel_shape", kernel), OnnxGraphBuilder.Ints("pads", padding, padding));
        return scope.Transpose(convolved, 0, 2, 1);
    }

    /// <summary><see cref="CrossModalEncoder.Attend"/>: the target attends to the source in every block.</summary>
    public static string Encoder(GraphScope scope, CrossModalEncoder encoder, MaskedValue target, MaskedValue source)
    {
        ModuleTree.RequireOnly(encoder, scope, ["layers", "layer_norm"]);
        var settings = encoder.Settings;
        var x = Embed(scope, target.Values, settings);
        var memory = Embed(scope, source.Values, settings);
        var timeDistance = settings.RelativeTimeBias ? TimeDistance(scope, FrameTimes(scope, target.Mask), FrameTimes(scope, source.Mask)) : null;

        var layers = ModuleTree.Child<ModuleList<CrossModalBlock>>(encoder, scope, "layers");
        for (var i = 0; i < layers.Count; i++)
            x = Block(scope.Child("layers").Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), layers[i], settings, x, memory, source.Mask, timeDistance);
        return TextEncoderGraph.LayerNorm(scope.Child("layer_norm"), ModuleTree.Child<LayerNorm>(encoder, scope, "layer_norm"), x);
    }

    /// <summary>Mean over the real positions; a sample without any pools to zeros (<see cref="MaskedSequence.Mean"/>).</summary>
    public static string MeanPool(GraphScope scope, MaskedValue sequence)
    {
        var keep = scope.Unsqueeze(sequence.Mask, 2);
        var sum = scope.ReduceSum(scope.MaskedFill(sequence.Values, scope.Op("Not", keep), 0f), 1, keepDims: false);
        var count = scope.Max(scope.ReduceSum(scope.Cast(keep, DataType.Float), 1, keepDims: false), scope.Builder.Float(1f));
        return scope.Div(sum, count);
    }

    // x · √width (+ sinusoidal positions for this length).
    private static string Embed(GraphScope scope, string x, CrossModalSettings settings)
    {
        var scaled = scope.Mul(x, (float)Math.Sqrt(settings.Width));
        return settings.UsePositions ? scope.Add(scaled, Positions(scope, x, settings.Width)) : scaled;
    }

    // SinusoidalPositions.Table for the sequence's length, computed in the graph from the same frequencies.
    private static string Positions(GraphScope scope, string x, long width)
    {
        var pairs = (width + 1) / 2;
        var key = $"positions.frequencies.{width}";
        string frequencies;
        if (!scope.Builder.HasInitializer(key))
        {
            using var values = SinusoidalPositions.Frequencies(width, CPU);
            scope.Builder.Weight(key, values.unsqueeze(0));
        }
        frequencies = key;
        var positions = scope.Unsqueeze(scope.Cast(scope.Range(scope.Dim(x, 1)), DataType.Float), 1);
        var angles = scope.Mul(positions, frequencies); // [length, pairs]
        var interleaved = scope.Concat(2, scope.Unsqueeze(scope.Op("Sin", angles), 2), scope.Unsqueeze(scope.Op("Cos", angles), 2));
        var table = scope.Reshape(interleaved, -1, 2 * pairs);
        if (2 * pairs != width)
            table = scope.Op("Slice", table, scope.Builder.Int64s(0), scope.Builder.Int64s(width), scope.Builder.Int64s(1));
        return table;
    }

    // RelativeTime.FrameTimes with a mask: (k + ½) / n for the k-th real frame of n.
    private static string FrameTimes(GraphScope scope, string mask)
    {
        var real = scope.Cast(mask, DataType.Float);
        var count = scope.Max(scope.ReduceSum(real, 1, keepDims: true), scope.Builder.Float(1f));
        return scope.Div(scope.Sub(scope.CumSum(real, 1), scope.Builder.Float(0.5f)), count);
    }

    // RelativeTime.Distance: |t_target − t_source| as [batch, 1, target, source].
    private static string TimeDistance(GraphScope scope, string targetTimes, string sourceTimes) =>
        scope.Unsqueeze(scope.Abs(scope.Sub(scope.Unsqueeze(targetTimes, 2), scope.Unsqueeze(sourceTimes, 1))), 1);

    private static string Block(GraphScope scope, CrossModalBlock block, CrossModalSettings settings, string target, string source, string sourceMask, string? timeDistance)
    {
        ModuleTree.RequireOnly(block, scope, ["cross_attn", "target_norm", "source_norm", "ffn_norm", "fc1", "fc2"]);
        string Norm(string name, string x) => TextEncoderGraph.LayerNorm(scope.Child(name), ModuleTree.Child<LayerNorm>(block, scope, name), x);
        string Projection(string name, string x) => ExportedLinear.Emit(scope.Child(name), ModuleTree.ChildOrNull(block, name)!, x);

        var attentionModule = ModuleTree.ChildOrNull(block, "cross_attn");
        if (attentionModule is not MultiheadCrossAttention attention)
            throw ModuleTree.Unsupported(scope.Child("cross_attn"), attentionModule!, "a MultiheadCrossAttention is expected here.");
        var attended = CrossAttention(scope.Child("cross_attn"), attention, settings, Norm("target_norm", target), Norm("source_norm", source), sourceMask, timeDistance);
        var x = scope.Add(target, attended);
        var hidden = scope.Relu(Projection("fc1", Norm("ffn_norm", x)));
        return scope.Add(x, Projection("fc2", hidden));
    }

    private static string CrossAttention(GraphScope scope, MultiheadCrossAttention attention, CrossModalSettings settings, string query, string source, string sourceMask, string? timeDistance)
    {
        var slopes = ModuleTree.TensorOrNull(attention, "time_slopes");
        ModuleTree.RequireOnly(attention, scope, ["q_proj", "k_proj", "v_proj", "out_proj"], slopes is null ? [] : ["time_slopes"]);
        long heads = settings.Heads, headWidth = settings.Width / settings.Heads;
        string Project(string name, string x) =>
            scope.Reshape(ExportedLinear.Emit(scope.Child(name), ModuleTree.ChildOrNull(attention, name)!, x), 0, 0, heads, headWidth);

        var q = scope.Transpose(Project("q_proj", query), 0, 2, 1, 3);
        var k = scope.Transpose(Project("k_proj", source), 0, 2, 3, 1);
        var v = scope.Transpose(Project("v_proj", source), 0, 2, 1, 3);

        // −slope·|Δt| per head where the time bias is on; padded keys take finfo.min instead (FusedAttention.KeyPaddingBias).
        var padded = scope.Unsqueeze(scope.Op("Not", sourceMask), 1, 2);
        string bias;
        if (slopes is not null && timeDistance is not null)
        {
            using var perHead = slopes.detach().view(1, heads, 1, 1);
            var slopeValues = scope.Builder.Weight(scope.Key("time_slopes"), perHead);
            bias = scope.MaskedFill(scope.Neg(scope.Mul(slopeValues, timeDistance)), padded, float.MinValue);
        }
        else
        {
            bias = scope.MaskedFill(scope.Builder.Float(0f), padded, float.MinValue);
        }
        var attended = scope.Attention(q, k, v, bias, headWidth);
        // A sample whose keys are all padding gets a zero context (FusedAttention.AnyRealKey).
        var anyReal = scope.Unsqueeze(scope.ReduceMax(scope.Cast(sourceMask, DataType.Float), 1, keepDims: true), 2, 3);
        attended = scope.Mul(attended, anyReal);
        var context = scope.Reshape(scope.Transpose(attended, 0, 2, 1, 3), 0, 0, heads * headWidth);
        return ExportedLinear.Emit(scope.Child("out_proj"), ModuleTree.ChildOrNull(attention, "out_proj")!, context);
    }
}
