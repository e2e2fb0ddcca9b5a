using LRCMT.LowRank;
using LRCMT.LowRank.Substitution;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Export;

/// <summary>
/// The weight and bias a linear slot computes with at inference, written as <see cref="GraphScope.Linear"/>: a plain
/// <c>Linear</c>, or a LoRA layer over one with its active adapter folded in (W + s·B·A; DoRA: m·V/‖V‖ per row with
/// V = W + s·B·A), so the exported graph has no adapter branch. A merged or disabled adapter leaves W as forward uses it.
/// </summary>
internal static class ExportedLinear
{
    /// <summary>Emits <c>F.linear(x, W_eff, b)</c> for the module at <paramref name="scope"/>; weights are named by that path.</summary>
    public static string Emit(GraphScope scope, nn.Module module, string x)
    {
        var (weight, bias) = Weights(scope, module);
        using (weight)
        using (bias)
        {
            var w = scope.Builder.TransposedWeight(scope.Key("weight"), weight);
            var b = bias is null ? null : scope.Builder.Weight(scope.Key("bias"), bias);
            return scope.Linear(x, w, b);
        }
    }

    /// <summary>W_eff [out, in] and b [out] in float32, new tensors owned by the caller.</summary>
    internal static (Tensor Weight, Tensor? Bias) Weights(GraphScope scope, nn.Module module)
    {
        using var _ = no_grad();
        switch (module)
        {
            case Linear linear:
                return (linear.weight!.detach().to(ScalarType.Float32, copy: true), linear.bias?.detach().to(ScalarType.Float32, copy: true));
            case LoRALinear lora:
                return Fold(lora, lora.Weight, lora.Bias);
            case SubstitutedLinear substituted when substituted.Wrapped is Linear:
                return Fold(substituted, ModuleTree.Tensor(substituted, scope, "weight"), ModuleTree.TensorOrNull(substituted, "bias"));
            default:
                throw ModuleTree.Unsupported(scope, module, "a linear projection is expected here (Linear, or LoRA over a Linear).");
        }
    }

    private static (Tensor Weight, Tensor? Bias) Fold(LoRALayer layer, Tensor weight, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32);
        if (layer.EffectiveAdapter is { } adapter)
        {
            var (a, b, magnitude) = layer.AdapterMatrices(adapter.Name);
            using Scalar scaling = adapter.Settings.Scaling; // held through the call (RootedScalars)
            w = w.add(b.detach().to(ScalarType.Float32).matmul(a.detach().to(ScalarType.Float32)).mul(scaling), One);
            if (adapter.Settings.UseDora && magnitude is not null)
                w = w * (magnitude.detach().to(ScalarType.Float32) / linalg.vector_norm(w, 2, [1])).unsqueeze(1);
        }
        var folded = w.contiguous().clone().MoveToOuterDisposeScope();
        var foldedBias = bias?.detach().to(ScalarType.Float32, copy: true).MoveToOuterDisposeScope();
        return (folded, foldedBias);
    }
}
