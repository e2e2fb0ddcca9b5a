using LRCMT.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Kernels;

/// <summary>
/// A projection with a frozen weight whose input records gradients (every frozen layer of a LoRA or partly frozen model
/// in training) as one autograd node computed by <see cref="Sgemm"/>: forward x·Wᵀ + b, backward only the input's
/// gradient g·W. It keeps W (the parameter itself, no copy) for backward, as libtorch's own node does when W needs no
/// gradient.
/// </summary>
/// <remarks>Chosen by <see cref="CpuProjection"/>'s rule only; the release protocol is <see cref="LowRank.HalfInputProjection"/>'s
/// (<see cref="FunctionOutputCache"/>, <see cref="ReturnedGradients{TFunction}"/>).</remarks>
internal sealed class FrozenProjection : autograd.SingleTensorFunction<FrozenProjection>
{
    public override string Name => "FrozenProjection";

    /// <summary>x·Wᵀ + b with a node that returns the gradient of <paramref name="input"/> only.</summary>
    public static Tensor Project(Tensor input, Tensor weight, Tensor? bias)
        => FunctionOutputCache.ReleasePending(bias is null ? apply(input, weight) : apply(input, weight, bias));

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ReturnedGradients<FrozenProjection>.Release();
        FunctionOutputCache.ReleaseAfterApply(ctx); // one output: TorchSharp's buffer for zeros is never needed
        var (input, weight) = ((Tensor)vars[0], (Tensor)vars[1]);
        var bias = vars.Length > 2 ? (Tensor)vars[2] : null;
        ctx.save_for_backward([weight]);
        ctx.save_data("inputs", vars.Length);
        using var noGrad = no_grad();
        return CpuProjection.Product(input, weight, bias);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ReturnedGradients<FrozenProjection>.Release();
        var saved = ctx.get_saved_variables();
        // Returned tensors must outlive this call (libtorch takes them after it returns): no dispose scope around them.
        var gradInput = CpuProjection.InputGradient(grad_output, saved[0]);
        grad_output.Dispose(); // this wrapper's reference only; the engine holds its own for as long as it needs it
        foreach (var tensor in saved) tensor.Dispose();
        var gradients = new List<Tensor> { gradInput, null! };
        if ((int)ctx.get_data("inputs") > 2) gradients.Add(null!);
        return ReturnedGradients<FrozenProjection>.Keep(gradients);
    }
}
