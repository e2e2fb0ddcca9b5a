using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Interop;

/// <summary>
/// A custom autograd function with one output that releases what TorchSharp keeps per call for nothing, in one place:
/// the output buffers for a missing gradient (<see cref="FunctionOutputCache"/>), the wrapper of the upstream gradient
/// once backward has used it, and the wrappers of the gradients backward returned, at the function's next call on the
/// thread (<see cref="ReturnedGradients{TFunction}"/>). A function derives from it, writes <see cref="Forward"/> and
/// <see cref="Backward"/>, and is applied through <see cref="Run"/>.
/// </summary>
/// <typeparam name="TFunction">The function itself.</typeparam>
internal abstract class ReleasingFunction<TFunction> : autograd.SingleTensorFunction<TFunction>
    where TFunction : ReleasingFunction<TFunction>, new()
{
    /// <summary>Applies the function to <paramref name="vars"/> and releases the call's output buffers.</summary>
    protected static Tensor Run(params object[] vars) => FunctionOutputCache.ReleasePending(apply(vars));

    /// <summary>The output, from the inputs as passed to <see cref="Run"/>; save what backward needs on <paramref name="ctx"/>.</summary>
    protected abstract Tensor Forward(autograd.AutogradContext ctx, object[] vars);

    /// <summary>
    /// One gradient per input (null where none), computed from <paramref name="gradOutput"/>, which is disposed after
    /// this returns. Returned tensors must outlive the call (libtorch takes them after it returns): no dispose scope
    /// around them.
    /// </summary>
    protected abstract List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput);

    public sealed override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ReturnedGradients<TFunction>.Release();
        FunctionOutputCache.ReleaseAfterApply(ctx); // one output: TorchSharp's buffer for zeros is never needed
        return Forward(ctx, vars);
    }

    public sealed override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ReturnedGradients<TFunction>.Release();
        var gradients = Backward(ctx, grad_output);
        grad_output.Dispose(); // this wrapper's reference only; the engine holds its own for as long as it needs it
        return ReturnedGradients<TFunction>.Keep(gradients);
    }
}
