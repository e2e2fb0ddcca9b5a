using FluentAssertions;
using LRCMT.Data;
using LRCMT.Evaluation;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using TorchSharp;
using Xunit;

namespace LRCMT.Tests.Training;

public class TrainerCudaTests
{
    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    [Trait("Category", "GPU")]
    public void Training_on_cuda_moves_each_batch_to_the_model_device()
    {
        var samples = Enumerable.Range(0, 8).Select(i => new MultimodalSample($"s{i}", null, [1, 3 + i, 2],
            new float[,] { { i * 0.1f, 0.2f, -0.3f }, { 0.5f, i * -0.1f, 0.1f } }, new float[,] { { 0.3f, i * 0.05f } }, i / 4f - 1)).ToList();
        var train = new MultimodalDataLoader(samples, new MultimodalCollator(), 4, shuffle: true, seed: 2);
        var valid = new MultimodalDataLoader(samples, new MultimodalCollator(), 4);
        var options = new TrainerOptions { Epochs = 3, Patience = 0, RestoreBestWeights = false, LearningRate = 1e-2 };

        using var gpu = new TinyRegressor(3, 2, seed: 4);
        gpu.to(torch.CUDA);

        var result = new Trainer(options).Fit(gpu, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        result.Steps.Should().Be(6);
        result.History.Should().OnlyContain(h => double.IsFinite(h.TrainLoss));
        gpu.named_parameters().Should().OnlyContain(p => p.parameter.device_type == DeviceType.CUDA);
        double.IsFinite(Trainer.Evaluate(gpu, valid, MsaDataset.Mosi)[MsaMetricNames.Mae]).Should().BeTrue();
    }
}
