using System.Text.Json;
using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Models.Persistence;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Models.Persistence;

public sealed class ModelPersistenceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lrcmt-save-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static LrcmtBuilder TinyBert(EncoderTuning tuning, InteractionMode mode, bool reverse, HeadKind head)
    {
        var builder = new LrcmtBuilder()
            .WithPretrainedEncoder(Fixtures.TinyBertFolder)
            .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
            .WithFusion(width: 8, heads: 2, layers: 1)
            .WithInteraction(mode, reverse);
        builder = head == HeadKind.Classification ? builder.WithClassificationHead(3) : builder.WithRegressionHead();
        // Random A and B, so the adapter changes the output and a lost adapter would show.
        return tuning == EncoderTuning.LoRA
            ? builder.WithLoRA(l => { l.Rank = 2; l.Init = LoRAInit.BothRandom; })
            : builder.WithEncoderTuning(tuning);
    }

    /// <summary>Moves every trainable weight away from its initial value, as training would.</summary>
    private static void Perturb(LRCMTModel model)
    {
        using var _ = no_grad();
        foreach (var p in model.parameters().Where(p => p.requires_grad)) p.add_(randn_like(p).mul(0.05));
    }

    public static TheoryData<EncoderTuning, InteractionMode, bool, HeadKind> Variants()
    {
        var data = new TheoryData<EncoderTuning, InteractionMode, bool, HeadKind>();
        foreach (var head in new[] { HeadKind.Regression, HeadKind.Classification })
        {
            data.Add(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, head);
            data.Add(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, true, head);
            data.Add(EncoderTuning.LoRA, InteractionMode.TextToEachModality, true, head);
            data.Add(EncoderTuning.LoRA, InteractionMode.TextOnly, false, head);
            data.Add(EncoderTuning.Frozen, InteractionMode.AcousticVisualFirst, false, head);
            data.Add(EncoderTuning.Full, InteractionMode.AcousticVisualFirst, false, head);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void A_saved_model_loads_with_identical_predictions(EncoderTuning tuning, InteractionMode mode, bool reverse, HeadKind head)
    {
        manual_seed(40);
        string folder = Path.Combine(_root, "model");
        using var batch = ModelTestData.Batch();
        using var original = TinyBert(tuning, mode, reverse, head).Build();
        Perturb(original);
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        manual_seed(41); // a different initialisation: only the files can make the loaded model agree
        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);
        using var fresh = TinyBert(tuning, mode, reverse, head).Build();
        fresh.eval();
        using var unrelated = fresh.call(batch);

        actual.shape.Should().Equal(expected.shape);
        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue("the loaded model must predict exactly as the saved one");
        unrelated.allclose(expected, atol: 1e-6).Should().BeFalse("a model built without the files predicts differently");
        loaded.Tuning.Should().Be(tuning);
        loaded.Architecture.Should().Be(original.Architecture);
        File.Exists(Path.Combine(folder, LrcmtModelFolder.AdapterFolderName, PeftAdapterFile.WeightsFileName)).Should().Be(tuning == EncoderTuning.LoRA);
    }

    [Fact]
    public void A_model_with_the_relative_time_bias_saves_its_slopes_and_loads_with_identical_predictions()
    {
        manual_seed(42);
        string folder = Path.Combine(_root, "timed");
        using var batch = ModelTestData.Batch();
        using var original = new LrcmtBuilder()
            .WithPretrainedEncoder(Fixtures.TinyBertFolder)
            .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
            .WithFusion(f => { f.Width = 8; f.Heads = 2; f.Layers = 1; f.RelativeTimeBias = true; })
            .WithLoRA(l => { l.Rank = 2; l.Init = LoRAInit.BothRandom; })
            .Build();
        Perturb(original); // the slopes move too: a loader that fell back to the initial slopes would show
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        manual_seed(43);
        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);

        loaded.Architecture.FusionSettings.RelativeTimeBias.Should().BeTrue();
        loaded.named_parameters().Count(p => p.name.EndsWith("time_slopes")).Should().Be(2);
        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue();
    }

    [Fact]
    public void The_manifest_records_the_model_as_built_feature_sizes_and_effective_targets()
    {
        string folder = Path.Combine(_root, "model");
        using var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build();
        model.Save(folder);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, LrcmtModelFolder.ConfigFileName)));
        var root = manifest.RootElement;
        root.GetProperty("architecture").GetProperty("AcousticFeatures").GetInt32().Should().Be(ModelTestData.Acoustic);
        root.GetProperty("architecture").GetProperty("VisualFeatures").GetInt32().Should().Be(ModelTestData.Visual);
        root.GetProperty("lora").GetProperty("TargetModules").EnumerateArray().Select(e => e.GetString()).Should().Equal("query", "value");
        root.GetProperty("base_encoder").GetProperty("WeightsSha256").GetString().Should().MatchRegex("^[0-9a-f]{64}$");
        PeftAdapterFile.ReadConfig(Path.Combine(folder, LrcmtModelFolder.AdapterFolderName)).TargetModules.Should().Equal("query", "value");
        LrcmtOptions.Of(model).Modalities.AcousticFeatures.Should().Be(ModelTestData.Acoustic);
    }

    [Fact]
    public void A_different_base_encoder_is_refused_with_both_hashes()
    {
        string folder = Path.Combine(_root, "model");
        using (var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build())
            model.Save(folder);
        var other = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using (no_grad()) other.parameters().First().add_(1e-3f);

        var act = () => LRCMTModel.Load(folder, other);

        var error = act.Should().Throw<BaseEncoderMismatchException>().Which;
        error.ExpectedSha256.Should().NotBe(error.ActualSha256);
        error.Message.Should().Contain(error.ExpectedSha256).And.Contain(error.ActualSha256);
        other.Dispose();
    }

    [Fact]
    public void The_same_base_encoder_passed_in_code_is_accepted()
    {
        string folder = Path.Combine(_root, "model");
        using (var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build())
            model.Save(folder);

        using var loaded = LRCMTModel.Load(folder, BertModel.FromPretrained(Fixtures.TinyBertFolder));

        loaded.Injection!.Adapted.Should().NotBeEmpty();
    }

    [Fact]
    public void A_weights_file_with_a_wrong_shape_or_a_missing_tensor_is_refused_by_name()
    {
        string folder = Path.Combine(_root, "model");
        using (var model = TinyBert(EncoderTuning.Frozen, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build())
            model.Save(folder);
        string weights = Path.Combine(folder, LrcmtModelFolder.WeightsFileName);
        var tensors = LRCMT.Formats.Safetensors.SafetensorsFile.Load(weights);
        var victim = tensors.Keys.First(k => k.StartsWith("head.", StringComparison.Ordinal));
        tensors[victim] = zeros(3, 3);
        var dropped = tensors.Keys.First(k => k.StartsWith("interaction.", StringComparison.Ordinal));
        tensors.Remove(dropped);
        LRCMT.Formats.Safetensors.SafetensorsFile.Save(weights, tensors);

        var act = () => LRCMTModel.Load(folder);

        var error = act.Should().Throw<CheckpointMismatchException>().Which;
        error.MissingKeys.Should().Equal(dropped);
        error.ShapeMismatches.Should().ContainSingle(s => s.StartsWith(victim));
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void A_model_composed_without_the_builder_cannot_be_saved_without_a_base_record()
    {
        using var model = ModelTestData.Model();

        var act = () => model.Save(Path.Combine(_root, "model"));

        act.Should().Throw<InvalidOperationException>().WithMessage("*base-encoder*");
    }
}
