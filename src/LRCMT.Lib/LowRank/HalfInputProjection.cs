using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// An adapter's down-projection A·x for a half-precision base (bf16/fp16 input, float32 A) as one autograd node that
/// keeps the input for backward in its own half type. The plain way, <c>lora_A(x.to(float32))</c>, makes autograd keep
/// the float32 copy: two per layer for q and v (each adapter casts the shared input again), twice the bytes of the
/// half input they came from — on bert-base LoRA q,v that is 36 MiB of the bf16 run's ~330 MiB of training memory.
/// The arithmetic is the plain way's: forward and both gradients are computed in float32 from the same values.
/// </summary>
/// <remarks>
/// TorchSharp keeps the wrappers of the upstream gradient and of returned gradients in the caller's dispose scope;
/// <see cref="Interop.ReleasingFunction{TFunction}"/> releases the upstream one once it is used and the returned ones at
/// the next call.
/// </remarks>
internal sealed class HalfInputProjection : Interop.ReleasingFunction<HalfInputProjection>
{
    private const string InputNeedsGradient = "lrcmt.half-input.grad";

    public override string Name => "HalfInputProjection";

    /// <summary>A·x of the bias-free float32 <paramref name="down"/> for any input dtype: through this node when
    /// <paramref name="input"/> is of another (half) type, else the module itself.</summary>
    public static Tensor Project(nn.Module<Tensor, Tensor> down, Tensor input)
    {
        if (down is not Linear { bias: null } linear || linear.weight is not { } weight || input.dtype == weight.dtype)
            return down.call(input.dtype == Of(down) ? input : input.to(Of(down)));
        return Run(input, weight);
    }

    private static ScalarType Of(nn.Module down) => down.parameters().First().dtype;

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var (input, weight) = ((Tensor)vars[0], (Tensor)vars[1]);
        ctx.save_for_backward([input, weight]);
        ctx.save_data(InputNeedsGradient, input.requires_grad);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad(); // the inner ops must not record nodes of their own (they would keep the float32 copy)
        return nn.functional.linear(input.to(weight.dtype), weight).MoveToOuterDisposeScope();
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        var (input, weight) = (saved[0], saved[1]);
        Tensor? gradInput = null;
        if ((bool)ctx.get_data(InputNeedsGradient))
            using (var full = grad_output.matmul(weight))
                gradInput = full.to(input.dtype);
        Tensor gradWeight;
        using (var rows = grad_output.reshape(-1, grad_output.shape[^1]))
        using (var flat = input.reshape(-1, input.shape[^1]))
        using (var up = flat.to(weight.dtype))
        using (var transposed = rows.t())
            gradWeight = transposed.matmul(up);
        foreach (var tensor in saved) tensor.Dispose();
        return [gradInput!, gradWeight];
    }
}
