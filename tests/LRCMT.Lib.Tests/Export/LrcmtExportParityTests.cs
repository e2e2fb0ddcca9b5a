using TorchSharp;
using FluentAssertions;
using LRCMT.Export;
using LRCMT.Models;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Export;

/// <summary>
/// A whole LRCMT exported to ONNX and run by ONNX Runtime (graph optimisations on) against TorchSharp on the same batch:
/// different lengths and padding in every modality, an all-padding acoustic stream and a sample with no acoustic or
/// visual frame at all. Bound: 1e-4 absolute.
/// </summary>
public sealed class LrcmtExportParityTests : IDisposable
{
    private const double Bound = 1e-4;
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-export-").FullName;

    public static TheoryData<string, EncoderTuning, InteractionMode, bool, int, bool, int> Variants => new()
    {
        // name, tuning, interaction, reverse direction, classes (0 = regression), relative-time bias, projection kernel
        { "LoRA, regression, time bias", EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, 0, true, 1 },
        { "full fine-tuning, 7 classes, reverse, kernel 3", EncoderTuning.Full, InteractionMode.AcousticVisualFirst, true, 7, true, 3 },
        { "frozen, text to each modality, reverse", EncoderTuning.Frozen, InteractionMode.TextToEachModality, true, 0, false, 1 },
        { "LoRA, text only, 2 classes", EncoderTuning.LoRA, InteractionMode.TextOnly, false, 2, false, 1 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Onnx_runtime_reproduces_torchsharp(string name, EncoderTuning tuning, InteractionMode interaction, bool reverse, int classes, bool timeBias, int kernel)
    {
        using var model = ExportTestModels.Lrcmt(tuning, interaction, reverse, classes, timeBias, kernel);
        using var batch = ExportTestModels.Batch(120);
        var path = Path.Combine(_folder, "model.onnx");

        var result = OnnxExporter.Export(model, path);
        using var expected = Torch(model, batch);
        using var runner = new OnnxRuntimeRunner(path);
        var actual = runner.Run(ExportTestModels.Inputs(batch))["prediction"];

        var error = ExportTestModels.MaxAbsDifference(actual, expected);
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: max |torch - ort| = {error:E2}, {result.Bytes} bytes");
        error.Should().BeLessThan(Bound);
        result.Outputs.Single().Shape.Should().Equal(classes == 0 ? ["batch"] : ["batch", $"{classes}"]);
        runner.InputNames.Should().Equal(result.Inputs.Select(i => i.Name));
        if (interaction == InteractionMode.TextOnly) runner.InputNames.Should().Equal("input_ids", "attention_mask", "token_type_ids");
    }

    [Fact]
    public void A_dora_adapter_is_folded_into_its_weight()
    {
        using var model = ExportTestModels.Lrcmt(dora: true);
        using var batch = ExportTestModels.Batch(120);
        var path = Path.Combine(_folder, "dora.onnx");

        OnnxExporter.Export(model, path);
        using var runner = new OnnxRuntimeRunner(path);

        using var expected = Torch(model, batch);
        var error = ExportTestModels.MaxAbsDifference(runner.Run(ExportTestModels.Inputs(batch))["prediction"], expected);
        TestContext.Current.TestOutputHelper?.WriteLine($"DoRA: max |torch - ort| = {error:E2}");
        error.Should().BeLessThan(Bound);
    }

    [Fact]
    public void One_exported_file_serves_other_batch_sizes_and_lengths()
    {
        using var model = ExportTestModels.Lrcmt();
        var path = Path.Combine(_folder, "dynamic.onnx");
        OnnxExporter.Export(model, path);
        using var runner = new OnnxRuntimeRunner(path);

        foreach (var (text, acoustic, visual) in new[] { (3, 1, 2), (17, 11, 4) })
        {
            using var batch = ExportTestModels.Batch(120, text, acoustic, visual, seed: text);
            using var expected = Torch(model, batch);
            ExportTestModels.MaxAbsDifference(runner.Run(ExportTestModels.Inputs(batch))["prediction"], expected).Should().BeLessThan(Bound);
        }
    }

    [Fact]
    public void An_all_padding_modality_gives_the_same_output_as_torchsharp_and_as_no_frames_of_it()
    {
        // Sample 3 has no acoustic and no visual frame; its prediction must equal TorchSharp's, and must not depend on
        // the (masked) feature values.
        using var model = ExportTestModels.Lrcmt();
        using var batch = ExportTestModels.Batch(120);
        var path = Path.Combine(_folder, "empty.onnx");
        OnnxExporter.Export(model, path);
        using var runner = new OnnxRuntimeRunner(path);

        var inputs = ExportTestModels.Inputs(batch);
        var first = runner.Run(inputs)["prediction"];
        using Scalar hundred = 100; // held: a Scalar made inline may be finalised while libtorch reads it
        inputs["acoustic"] = batch.Acoustic * hundred;
        inputs["visual"] = batch.Visual.neg();
        var changed = runner.Run(inputs)["prediction"];

        first[3].item<float>().Should().Be(changed[3].item<float>());
        float.IsFinite(first[3].item<float>()).Should().BeTrue();
        using var expected = Torch(model, batch);
        ((double)Math.Abs(first[3].item<float>() - expected[3].item<float>())).Should().BeLessThan(Bound);
    }

    [Fact]
    public void Exporting_twice_gives_byte_identical_files()
    {
        using var model = ExportTestModels.Lrcmt();
        var first = Path.Combine(_folder, "first.onnx");
        var second = Path.Combine(_folder, "second.onnx");

        OnnxExporter.Export(model, first);
        OnnxExporter.Export(model, second);

        File.ReadAllBytes(first).Should().Equal(File.ReadAllBytes(second));
    }

    [Fact]
    public void External_weights_go_to_an_aligned_data_file_that_onnx_runtime_loads()
    {
        using var model = ExportTestModels.Lrcmt();
        using var batch = ExportTestModels.Batch(120);
        var path = Path.Combine(_folder, "external.onnx");

        var result = OnnxExporter.Export(model, path, new OnnxExportOptions(ExternalWeights: true));
        var again = Path.Combine(_folder, "again", "external.onnx");
        OnnxExporter.Export(model, again, new OnnxExportOptions(ExternalWeights: true));

        var data = OnnxExportOptions.WeightsFileFor(path);
        new FileInfo(path).Length.Should().BeLessThan(new FileInfo(data).Length / 10, "the weights are in the data file");
        File.ReadAllBytes(data).Should().Equal(File.ReadAllBytes(OnnxExportOptions.WeightsFileFor(again)));
        File.ReadAllBytes(path).Should().Equal(File.ReadAllBytes(again));
        using var runner = new OnnxRuntimeRunner(path);
        using var expected = Torch(model, batch);
        ExportTestModels.MaxAbsDifference(runner.Run(ExportTestModels.Inputs(batch))["prediction"], expected).Should().BeLessThan(Bound);
        result.Bytes.Should().Be(new FileInfo(path).Length);
    }

    [Fact]
    public void A_bfloat16_base_is_exported_in_float32_within_bfloat16_rounding()
    {
        using var model = ExportTestModels.Lrcmt();
        LRCMT.TextEncoders.BasePrecision.Apply(model.TextEncoder, LRCMT.TextEncoders.BaseDType.BFloat16);
        using var batch = ExportTestModels.Batch(120);
        var path = Path.Combine(_folder, "bf16.onnx");

        OnnxExporter.Export(model, path);
        using var runner = new OnnxRuntimeRunner(path);

        // TorchSharp computes the encoder in bfloat16 (8 significant bits); the graph computes the same weights in float32.
        using var expected = Torch(model, batch);
        var error = ExportTestModels.MaxAbsDifference(runner.Run(ExportTestModels.Inputs(batch))["prediction"], expected);
        TestContext.Current.TestOutputHelper?.WriteLine($"bf16 base: max |torch - ort| = {error:E2}");
        error.Should().BeLessThan(0.05);
    }

    [Fact]
    public void Export_leaves_unmerged_adapters_unmerged()
    {
        using var model = ExportTestModels.Lrcmt();
        using var batch = ExportTestModels.Batch(120);
        using var before = Torch(model, batch);

        OnnxExporter.Export(model, Path.Combine(_folder, "leave.onnx"));

        using var after = Torch(model, batch);
        ExportTestModels.MaxAbsDifference(before, after).Should().Be(0);
        model.named_modules().Select(m => m.module).OfType<LRCMT.LowRank.LoRALayer>().Should().OnlyContain(l => l.MergedAdapter == null);
    }

    private static Tensor Torch(LRCMTModel model, LRCMT.Data.MultimodalBatch batch)
    {
        using var _ = no_grad();
        return model.call(batch);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
