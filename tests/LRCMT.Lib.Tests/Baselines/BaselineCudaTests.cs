using FluentAssertions;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

[Trait("Category", "GPU")]
public sealed class BaselineCudaTests
{
    public static TheoryData<string> Kinds => BaselineTestModels.Kinds;

    [Theory(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    [MemberData(nameof(Kinds))]
    public void Forward_and_backward_on_cuda_match_the_cpu(string kind)
    {
        using var model = BaselineTestModels.Create(kind);
        model.eval();
        using var batch = BaselineTestModels.Batch(padding: 1e4);

        using var cpuOut = model.call(batch);
        cpuOut.sum().backward();
        var cpuGrads = model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone());

        model.zero_grad();
        model.to(CUDA);
        using var gpuBatch = batch.To(CUDA);
        using var gpuOut = model.call(gpuBatch);
        gpuOut.sum().backward();

        gpuOut.cpu().allclose(cpuOut, rtol: 1e-4, atol: 1e-4).Should().BeTrue();
        foreach (var (name, parameter) in model.named_parameters().Where(p => cpuGrads.ContainsKey(p.name)))
            parameter.grad!.cpu().allclose(cpuGrads[name], rtol: 1e-3, atol: 1e-4).Should().BeTrue(name);
    }
}
