using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// y = x · (q · s)ᵀ + b as one autograd node that keeps only the int8 codes and scales for backward. Plain
/// <c>F.linear</c> on a dequantised weight would keep that dequantised weight alive until backward — for every layer of
/// the model at once, as much memory as a float base. Here backward dequantises again: dL/dx = dL/dy · (q · s).
/// The codes, scales and bias are frozen, so they get no gradient.
/// </summary>
/// <remarks>
/// TorchSharp hands backward the upstream gradient as a tensor wrapper of its own and keeps the wrapper of the
/// returned gradient in the caller's dispose scope: both would stay alive until the training step's scope ends — every
/// projection's gradients at once, more than the int8 base saves. So backward releases the upstream gradient once it
/// is used, and the gradient it returned last is released at the next call (libtorch has copied it by then).
/// </remarks>
internal sealed class Int8ProjectionFunction : autograd.SingleTensorFunction<Int8ProjectionFunction>
{
    private const string SavedKey = "lrcmt.int8";

    [ThreadStatic] private static Tensor? lastReturned;

    public override string Name => "Int8Projection";

    public static Tensor Apply(Tensor input, Tensor codes, Tensor scales, Tensor? bias)
        => Interop.FunctionOutputCache.ReleasePending(bias is null ? apply(input, codes, scales) : apply(input, codes, scales, bias));

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ReleaseLastReturned();
        Interop.FunctionOutputCache.ReleaseAfterApply(ctx); // one output: TorchSharp's buffer for zeros is never needed
        var (input, codes, scales) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        var bias = vars.Length > 3 ? (Tensor)vars[3] : null;
        // One object, not the tensors themselves: the context's data slots are for non-tensors (TorchSharp prints a
        // warning for a tensor), and the codes and scales are the layer's own buffers, alive as long as the layer.
        ctx.save_data(SavedKey, new Saved(codes, scales, vars.Length));
        using var scope = NewDisposeScope();
        // TorchSharp runs this with gradients on: without no_grad the inner linear would record its own node and keep
        // the dequantised weight for backward after all.
        using var noGrad = no_grad();
        var weight = Int8Weights.Dequantize(codes, scales, input.dtype);
        return nn.functional.linear(input, weight, bias?.to(input.dtype)).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ReleaseLastReturned();
        var saved = (Saved)ctx.get_data(SavedKey);
        // Returned tensors must outlive this call (libtorch takes them after it returns): no dispose scope around them.
        Tensor gradInput;
        using (var weight = Int8Weights.Dequantize(saved.Codes, saved.Scales, grad_output.dtype))
            gradInput = grad_output.matmul(weight);
        grad_output.Dispose(); // this wrapper's reference only; the engine holds its own for as long as it needs it
        lastReturned = gradInput;
        var gradients = new List<Tensor> { gradInput };
        for (int i = 1; i < saved.Count; i++) gradients.Add(null!);
        return gradients;
    }

    private static void ReleaseLastReturned()
    {
        lastReturned?.Dispose();
        lastReturned = null;
    }

    private sealed record Saved(Tensor Codes, Tensor Scales, int Count);
}
