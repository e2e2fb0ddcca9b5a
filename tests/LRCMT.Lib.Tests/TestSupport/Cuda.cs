using TorchSharp;

namespace LRCMT.Tests.TestSupport;

/// <summary>
/// Gate for CUDA tests. Use as:
/// <c>[Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]</c>
/// plus <c>[Trait("Category", "GPU")]</c>, so CI (no GPU) skips them cleanly and a GPU machine can run them alone
/// with <c>-trait Category=GPU</c>.
/// </summary>
public static class Cuda
{
    public const string SkipReason = "CUDA is not available on this machine.";

    public static bool Available => torch.cuda.is_available();
}
