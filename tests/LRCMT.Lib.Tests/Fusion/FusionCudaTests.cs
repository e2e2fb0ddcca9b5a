using FluentAssertions;
using LRCMT.Fusion;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

[Trait("Category", "GPU")]
public class FusionCudaTests
{
    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Encoder_forward_and_backward_on_cuda_match_the_cpu()
    {
        manual_seed(11);
        using var encoder = new CrossModalEncoder(FusionTestData.Tiny());
        using var target = randn(2, 4, 8);
        using var source = randn(2, 6, 8);
        using var mask = FusionTestData.Mask(6, 6, 0);

        using var cpuOut = encoder.call(target, source, mask);
        cpuOut.sum().backward();
        var cpuGrads = encoder.parameters().Select(p => p.grad!.clone()).ToList();

        encoder.zero_grad();
        encoder.to(CUDA);
        using var gpuOut = encoder.call(target.cuda(), source.cuda(), mask.cuda());
        gpuOut.sum().backward();
        var gpuGrads = encoder.parameters().Select(p => p.grad!.cpu()).ToList();

        gpuOut.cpu().allclose(cpuOut, rtol: 1e-4, atol: 1e-4).Should().BeTrue();
        gpuGrads.Zip(cpuGrads).Should().OnlyContain(g => g.First.allclose(g.Second, 1e-3, 1e-4));
    }
}
