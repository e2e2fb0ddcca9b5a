using static TorchSharp.torch;

namespace LRCMT.Interop;

/// <summary>
/// Releases what a custom autograd function's backward returned. TorchSharp keeps the wrappers of the gradients a
/// backward returns in the caller's dispose scope, so they would stay alive until the training step's scope ends —
/// every layer's gradients at once. A function's backward hands its result to <see cref="Keep"/>, and the next call of
/// the same function on the thread (forward or backward) calls <see cref="Release"/> first: libtorch has taken the
/// gradients by then. (The upstream gradient's wrapper is the function's to dispose once it is used.)
/// </summary>
/// <typeparam name="TFunction">The function: each has its own slot.</typeparam>
internal static class ReturnedGradients<TFunction>
{
    [ThreadStatic] private static List<Tensor>? held;

    /// <summary>Keeps <paramref name="gradients"/> (null entries allowed) for the next <see cref="Release"/> and returns them.</summary>
    public static List<Tensor> Keep(List<Tensor> gradients)
    {
        held = gradients;
        return gradients;
    }

    /// <summary>Disposes the wrappers of the gradients kept last on this thread.</summary>
    public static void Release()
    {
        if (held is null) return;
        foreach (var tensor in held) tensor?.Dispose();
        held = null;
    }
}
