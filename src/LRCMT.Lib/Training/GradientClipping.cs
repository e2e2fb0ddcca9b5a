using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// Clips the global L2 norm of the gradients to a maximum without reading the norm back to the host: libtorch's
/// <c>clip_grad_norm_</c> (which TorchSharp calls) returns the norm as a double, a device-to-host synchronisation
/// every step on a GPU. Here the scale factor min(1, max / (‖g‖ + 1e-6)) stays a tensor on the device.
/// </summary>
internal static class GradientClipping
{
    public static void ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return;
        using var _ = no_grad();
        var total = stack(grads.Select(g => g.norm().to(ScalarType.Float32)).ToArray()).norm();
        // Held Scalars and a tensor numerator, not numbers: see RootedScalars.
        using Scalar floor = 1e-6;
        var factor = tensor(maxNorm, dtype: total.dtype, device: total.device).div(total.add(floor, One)).clamp_max(One);
        foreach (var grad in grads) grad.mul_(factor.to(grad.dtype));
    }
}
