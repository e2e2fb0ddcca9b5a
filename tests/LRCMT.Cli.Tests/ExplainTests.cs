using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Cli;

public class ExplainTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    [Fact]
    public void A_capture_records_each_layers_softmax_weights_with_padded_keys_at_zero_and_stops_when_disposed()
    {
        torch.manual_seed(3);
        using var encoder = new CrossModalEncoder(new CrossModalSettings { Width = 8, Heads = 2, Layers = 2 });
        encoder.eval();
        using var target = randn(2, 3, 8);
        using var source = randn(2, 5, 8);
        using var mask = tensor(new[,] { { true, true, true, true, true }, { true, true, false, false, false } });

        using (no_grad())
        using (var capture = AttentionCapture.Start(encoder))
        {
            encoder.call(target, source, mask).Dispose();

            capture.Records.Select(r => r.Module).Should().Equal("layers.0.cross_attn", "layers.1.cross_attn");
            var weights = capture.Records[1].Weights;
            weights.shape.Should().Equal(2, 2, 3, 5);
            using var rowSums = weights.sum(-1);
            rowSums.allclose(ones_like(rowSums), atol: 1e-5).Should().BeTrue("each query's weights are a softmax");
            weights[1, .., .., 2..].abs().max().item<float>().Should().Be(0, "padded keys get no attention");
        }

        using (no_grad()) encoder.call(target, source, mask).Dispose(); // no capture: nothing to record, nothing fails
    }

    [Fact]
    public async Task Explain_draws_every_cross_modal_encoder_for_each_requested_sample()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();

        var result = await CliHarness.RunAsync("explain", run, "--samples", "2", "--output", temp.Path);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        Directory.GetFiles(temp.Path, "*.png").Select(System.IO.Path.GetFileName).Should().BeEquivalentTo(
            "sample-0-acoustic_from_visual.png", "sample-0-visual_from_acoustic.png", "sample-0-text_from_memory.png",
            "sample-1-acoustic_from_visual.png", "sample-1-visual_from_acoustic.png", "sample-1-text_from_memory.png");
    }
}
