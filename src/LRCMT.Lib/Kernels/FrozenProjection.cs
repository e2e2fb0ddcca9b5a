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
/// <remarks>Chosen by <see cref="CpuProjection"/>'s rule only.</remarks>
internal sealed class FrozenProjection : ReleasingFunction<FrozenProjection>
{
    public override string Name => "FrozenProjection";

    /// <summary>x·Wᵀ + b with a node that returns the gradient of <paramref name="input"/> only.</summary>
    public static Tensor Project(Tensor input, Tensor weight, Tensor? bias)
        => bias is null ? Run(input, weight) : Run(input, weight, bias);

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var (input, weight) = ((Tensor)vars[0], (Tensor)vars[1]);
        var bias = vars.Length > 2 ? (Tensor)vars[2] : null;
        ctx.save_for_backward([weight]);
        ctx.save_data("inputs", vars.Length);
        using var noGrad = no_grad();
        return CpuProjection.Product(input, weight, bias);
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var gradInput = CpuProjection.InputGradient(gradOutput, saved[0]);
        foreach (var tensor in saved) tensor.Dispose();
        var gradients = new List<Tensor> { gradInput, null! };
        if ((int)ctx.get_data("inputs") > 2) gradients.Add(null!);
        return gradients;
    }
}
