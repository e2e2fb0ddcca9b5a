using FluentAssertions;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;

namespace LRCMT.Tests;

public class GpuSmokeTests
{
    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    [Trait("Category", "GPU")]
    public void Cuda_matmul_equals_cpu()
    {
        using var a = torch.randn(8, 8);
        using var cpu = a.matmul(a);
        using var gpu = a.cuda().matmul(a.cuda()).cpu();
        torch.allclose(cpu, gpu, rtol: 1e-4, atol: 1e-4).Should().BeTrue();
    }
}
