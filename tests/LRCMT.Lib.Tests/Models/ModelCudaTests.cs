using FluentAssertions;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

[Trait("Category", "GPU")]
public class ModelCudaTests
{
    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Model_forward_and_backward_on_cuda_match_the_cpu()
    {
        manual_seed(27);
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();

        using var cpuOut = model.call(batch);
        cpuOut.sum().backward();
        var cpuGrads = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.parameter.grad!.clone()).ToList();

        model.zero_grad();
        model.to(CUDA);
        using var gpuBatch = batch.To(CUDA);
        using var gpuOut = model.call(gpuBatch);
        gpuOut.sum().backward();
        var gpuGrads = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.parameter.grad!.cpu()).ToList();

        gpuOut.cpu().allclose(cpuOut, rtol: 1e-4, atol: 1e-4).Should().BeTrue();
        gpuGrads.Zip(cpuGrads).Should().OnlyContain(g => g.First.allclose(g.Second, 1e-3, 1e-4));
    }
}
