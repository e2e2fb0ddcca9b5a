using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// y = x · (q · s)ᵀ + b as one autograd node that keeps only the int8 codes and scales for backward. Plain
/// <c>F.linear</c> on a dequantised weight would keep that dequantised weight alive until backward — for every layer of
/// the model at once, as much memory as a float base. Here backward reads the codes again: dL/dx = (dL/dy · s) · q.
/// In bfloat16 and float32 the scale goes on the output, y = (x · qᵀ) · s + b, so the only weight-sized temporary is
/// the codes in the compute type (exact: |q| ≤ 127); float16 multiplies by the dequantised weight (see
/// <c>ScalesOutput</c>). The codes, scales and bias are frozen, so they get no gradient.
/// </summary>
/// <remarks>
/// TorchSharp hands backward the upstream gradient as a tensor wrapper of its own and keeps the wrapper of the
/// returned gradient in the caller's dispose scope: both would stay alive until the training step's scope ends — every
/// projection's gradients at once, more than the int8 base saves. <see cref="Interop.ReleasingFunction{TFunction}"/>
/// releases the upstream gradient once it is used, and the gradient returned at the next call.
/// </remarks>
internal sealed class Int8ProjectionFunction : Interop.ReleasingFunction<Int8ProjectionFunction>
{
    private const string SavedKey = "lrcmt.int8";

    public override string Name => "Int8Projection";

    public static Tensor Apply(Tensor input, Tensor codes, Tensor scales, Tensor? bias)
        => bias is null ? Run(input, codes, scales) : Run(input, codes, scales, bias);

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var (input, codes, scales) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        var bias = vars.Length > 3 ? (Tensor)vars[3] : null;
        // One object, not the tensors themselves: the context's data slots are for non-tensors (TorchSharp prints a
        // warning for a tensor), and the codes and scales are the layer's own buffers, alive as long as the layer.
        ctx.save_data(SavedKey, new Saved(codes, scales, vars.Length));
        using var scope = NewDisposeScope();
        // TorchSharp runs this with gradients on: without no_grad the inner linear would record its own node and keep
        // the dequantised weight for backward after all.
        using var noGrad = no_grad();
        if (!ScalesOutput(input.dtype))
            return nn.functional.linear(input, Int8Weights.Dequantize(codes, scales, input.dtype), bias?.to(input.dtype)).MoveToOuterDisposeScope();
        var output = nn.functional.linear(input, codes.to(input.dtype)).mul_(ScalesIn(scales, input.dtype));
        if (bias is not null) output.add_(bias.to(input.dtype), One);
        return output.MoveToOuterDisposeScope();
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var saved = (Saved)ctx.get_data(SavedKey);
        Tensor gradInput;
        if (!ScalesOutput(grad_output.dtype))
        {
            using var weight = Int8Weights.Dequantize(saved.Codes, saved.Scales, grad_output.dtype);
            gradInput = RowsTimes(grad_output, weight, grad_output.shape);
        }
        else
        {
            using var codes = saved.Codes.to(grad_output.dtype);
            using var rows = grad_output.reshape(-1, grad_output.shape[^1]);
            using var scales = ScalesIn(saved.Scales, grad_output.dtype);
            using var scaled = rows.mul(scales); // dL/d(x · qᵀ) = dL/dy · s
            gradInput = RowsTimes(scaled, codes, grad_output.shape);
        }
        var gradients = new List<Tensor> { gradInput };
        for (int i = 1; i < saved.Count; i++) gradients.Add(null!);
        return gradients;
    }

    // x · (q · s)ᵀ = (x · qᵀ) · s: the codes convert exactly to any floating type (|q| ≤ 127), so the scale can go on the
    // output, and no weight-sized float32 temporary is made in forward or backward. Not in float16: x · qᵀ with codes up
    // to 127 can pass float16's largest value (65 504) where the dequantised weight would not.
    private static bool ScalesOutput(ScalarType computeType) => computeType != ScalarType.Float16;

    // The scales in the compute type: libtorch multiplies a bfloat16 tensor by a float32 one in place far more slowly
    // than by a bfloat16 one (measured: a bert-base int8 LoRA step's forward went from ~345 to ~418 ms), and a scale
    // rounded to bfloat16 is off by at most 2⁻⁹ of itself — the rounding every weight and LayerNorm factor of a bfloat16
    // base has (the int8 tests' measured errors did not move: Int8BaseTests).
    private static Tensor ScalesIn(Tensor scales, ScalarType type) => type == scales.dtype ? scales.alias() : scales.to(type);

    // grad [..., out] · weight [out, in] as one 2-D product over the rows. matmul would do it as a batched product when
    // the gradient is not contiguous (it is not for q, k and v, whose outputs were split into heads): libtorch then
    // expands the weight over the batch and copies it (batch × the weight: 9 MiB per projection on bert-base at 8 × 64).
    private static Tensor RowsTimes(Tensor grad, Tensor weight, long[] gradShape)
    {
        var shape = (long[])gradShape.Clone();
        shape[^1] = weight.shape[1];
        using var rows = grad.reshape(-1, grad.shape[^1]);
        using var product = rows.mm(weight);
        return product.view(shape);
    }

    private sealed record Saved(Tensor Codes, Tensor Scales, int Count);
}
