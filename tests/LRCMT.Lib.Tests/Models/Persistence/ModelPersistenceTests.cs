using LRCMT.Interop;
using System.Globalization;
using System.Text.Json.Nodes;
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

namespace LRCMT.Tests.Models.Persistence;

public sealed class ModelPersistenceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lrcmt-save-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static LrcmtBuilder TinyBert(EncoderTuning tuning, InteractionMode mode, bool reverse, HeadKind head, BaseDType dtype = BaseDType.Float32)
    {
        var builder = new LrcmtBuilder()
            .WithPretrainedEncoder(Fixtures.TinyBertFolder)
            .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
            .WithFusion(width: 8, heads: 2, layers: 1)
            .WithInteraction(mode, reverse)
            .WithBaseDType(dtype);
        builder = head == HeadKind.Classification ? builder.WithClassificationHead(3) : builder.WithRegressionHead();
        // Random A and B, so the adapter changes the output and a lost adapter would show.
        return tuning == EncoderTuning.LoRA
            ? builder.WithLoRA(l => l with { Rank = 2, Init = LoRAInit.BothRandom })
            : builder.WithEncoderTuning(tuning);
    }

    /// <summary>Moves every trainable weight away from its initial value, as training would.</summary>
    private static void Perturb(LRCMTModel model)
    {
        using var _ = no_grad();
        using Scalar scale = 0.05; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        foreach (var p in model.parameters().Where(p => p.requires_grad)) p.add_(randn_like(p).mul(scale), RootedScalars.One);
    }

    // A projection of the base that is never a LoRA target here: half types convert every weight, int8 only the projections.
    private static ScalarType BaseDTypeOf(LRCMTModel model) =>
        model.TextEncoder.state_dict().Single(kv => kv.Key == "encoder.layer.0.attention.output.dense.weight").Value.dtype;

    public static TheoryData<EncoderTuning, BaseDType, HeadKind> TuningsDTypesAndHeads()
    {
        var data = new TheoryData<EncoderTuning, BaseDType, HeadKind>();
        foreach (var head in new[] { HeadKind.Regression, HeadKind.Classification })
        foreach (var tuning in new[] { EncoderTuning.LoRA, EncoderTuning.Frozen, EncoderTuning.Full })
        foreach (var dtype in Enum.GetValues<BaseDType>())
            if (tuning != EncoderTuning.Full || dtype == BaseDType.Float32) // a half base needs a frozen base
                data.Add(tuning, dtype, head);
        return data;
    }

    [Theory]
    [MemberData(nameof(TuningsDTypesAndHeads))]
    public void A_saved_model_loads_as_the_same_description_base_dtype_and_predictions(EncoderTuning tuning, BaseDType dtype, HeadKind head)
    {
        manual_seed(40);
        string folder = Path.Combine(_root, "model");
        using var batch = ModelTestData.Batch();
        using var original = TinyBert(tuning, InteractionMode.AcousticVisualFirst, false, head, dtype).Build();
        Perturb(original);
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        manual_seed(41); // a different initialisation: only the files can make the loaded model agree
        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);

        loaded.Options.Should().Be(original.Options, "Load rebuilds exactly the saved description");
        BaseDTypeOf(loaded).Should().Be(dtype.ToScalarType()).And.Be(BaseDTypeOf(original));
        actual.shape.Should().Equal(expected.shape);
        actual.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue("the loaded model must predict as the saved one");
    }

    [Fact]
    public void A_model_saved_when_int8_bases_held_float32_embeddings_loads_onto_todays_int8_base()
    {
        manual_seed(40);
        string folder = Path.Combine(_root, "model");
        using var batch = ModelTestData.Batch();
        using var original = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression, BaseDType.Int8).Build();
        Perturb(original);
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);
        // What a save before 5 December 2026 recorded: the fingerprint of the base with its projections quantized and
        // the embeddings, LayerNorms and biases left float32. The manifest is rewritten (and sealed again) with it.
        string earlier;
        using (var fp32 = BertModel.FromPretrained(Fixtures.TinyBertFolder))
        {
            foreach (var parameter in fp32.parameters()) parameter.requires_grad = false;
            BasePrecision.QuantizeProjections(fp32);
            fp32.state_dict()["embeddings.word_embeddings.weight"].dtype.Should().Be(ScalarType.Float32);
            earlier = EncoderFingerprint.Compute(fp32);
        }
        var manifestPath = Path.Combine(folder, LrcmtModelFolder.ConfigFileName);
        var manifest = ModelManifest.Read(manifestPath);
        earlier.Should().NotBe(manifest.BaseEncoderSha256, "the layouts differ");
        (manifest with { BaseEncoderSha256 = earlier }).Write(manifestPath, LrcmtModelFolder.AdapterFolderName);

        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);

        loaded.TextEncoder.state_dict()["embeddings.word_embeddings.weight"].dtype.Should().Be(ScalarType.BFloat16, "today's int8 base");
        loaded.BaseEncoderSha256.Should().Be(original.BaseEncoderSha256, "a re-save records today's layout");
        actual.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue("the same codes, scales, adapter and fusion");
    }

    public static TheoryData<EncoderTuning, InteractionMode, bool, HeadKind> Variants()
    {
        var data = new TheoryData<EncoderTuning, InteractionMode, bool, HeadKind>();
        foreach (var head in new[] { HeadKind.Regression, HeadKind.Classification })
        {
            data.Add(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, true, head);
            data.Add(EncoderTuning.LoRA, InteractionMode.TextToEachModality, true, head);
            data.Add(EncoderTuning.LoRA, InteractionMode.TextOnly, false, head);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Every_interaction_loads_with_identical_predictions(EncoderTuning tuning, InteractionMode mode, bool reverse, HeadKind head)
    {
        manual_seed(40);
        string folder = Path.Combine(_root, "model");
        using var batch = ModelTestData.Batch();
        using var original = TinyBert(tuning, mode, reverse, head).Build();
        Perturb(original);
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        manual_seed(41);
        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);
        using var fresh = TinyBert(tuning, mode, reverse, head).Build();
        fresh.eval();
        using var unrelated = fresh.call(batch);

        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue("the loaded model must predict exactly as the saved one");
        unrelated.allclose(expected, atol: 1e-6).Should().BeFalse("a model built without the files predicts differently");
        loaded.Options.Should().Be(original.Options);
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
            .WithFusion(f => f with { Width = 8, Heads = 2, Layers = 1, RelativeTimeBias = true })
            .WithLoRA(l => l with { Rank = 2, Init = LoRAInit.BothRandom })
            .Build();
        Perturb(original); // the slopes move too: a loader that fell back to the initial slopes would show
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        manual_seed(43);
        using var loaded = LRCMTModel.Load(folder);
        using var actual = loaded.call(batch);

        loaded.Options.Fusion.RelativeTimeBias.Should().BeTrue();
        loaded.named_parameters().Count(p => p.name.EndsWith("time_slopes")).Should().Be(2);
        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue();
    }

    [Fact]
    public void The_manifest_holds_the_whole_description_and_points_to_the_adapter_for_the_lora_configuration()
    {
        string folder = Path.Combine(_root, "model");
        using var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression, BaseDType.BFloat16).Build();
        model.Save(folder);

        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, LrcmtModelFolder.ConfigFileName)))!.AsObject();
        root["format"]!.GetValue<int>().Should().Be(3);
        root["files"]!.AsObject().Select(f => f.Key).Should().BeEquivalentTo(
            ["model.safetensors", "adapter/adapter_config.json", "adapter/adapter_model.safetensors"], "every file a load reads is hashed");
        root["base_encoder_config_sha256"]!.GetValue<string>().Should().MatchRegex("^[0-9a-f]{64}$");
        root[ModelManifest.SealField]!.GetValue<string>().Should().Be(ModelManifest.Seal(root));
        root["options"]!["Modalities"]!["AcousticFeatures"]!.GetValue<int>().Should().Be(ModelTestData.Acoustic);
        root["options"]!["TextEncoder"]!["BaseDType"]!.GetValue<string>().Should().Be("BFloat16");
        root["options"]!["TextEncoder"]!["PretrainedFolder"]!.GetValue<string>().Should().Be(Path.GetFullPath(Fixtures.TinyBertFolder));
        root["options"]!["LoRA"]!.AsObject().Select(kv => kv.Key).Should().Equal(new[] { nameof(LoRAConfig.AllowDropoutOnSubstitutedLayers) },
            "the LoRA configuration is kept once, in the adapter folder; the manifest keeps only what PEFT's file has no field for");
        root["lora_adapter"]!.GetValue<string>().Should().Be(LrcmtModelFolder.AdapterFolderName);
        root["base_encoder_sha256"]!.GetValue<string>().Should().MatchRegex("^[0-9a-f]{64}$");
        PeftAdapterFile.ReadConfig(Path.Combine(folder, LrcmtModelFolder.AdapterFolderName)).TargetModules.Should().Equal("query", "value");
        LRCMTModel.ReadOptions(folder).Should().Be(model.Options);
    }

    private static readonly Dictionary<string, LoRAConfig> LoRAVariants = new()
    {
        ["layers"] = new LrcmtOptions().LoRA with { LayersToTransform = [1] },
        ["layers and pattern"] = new LrcmtOptions().LoRA with { LayersToTransform = [0], LayersPattern = ["layer"] },
        ["rsLoRA"] = new LrcmtOptions().LoRA with { UseRsLora = true },
        ["DoRA"] = new LrcmtOptions().LoRA with { UseDora = true, Dropout = 0 },
        ["bias"] = new LrcmtOptions().LoRA with { Bias = LoRABias.All },
        ["init"] = new LrcmtOptions().LoRA with { Init = LoRAInit.Gaussian },
        ["task type"] = new LrcmtOptions().LoRA with { TaskType = "SEQ_CLS" },
        ["regex"] = new LrcmtOptions().LoRA with { TargetModules = [], TargetRegex = @"encoder\.layer\.\d+\.attention\.self\.(query|value)" },
        ["exclude"] = new LrcmtOptions().LoRA with { TargetModules = ["query", "key", "value"], ExcludeModules = ["key"] },
        ["rank pattern"] = new LrcmtOptions().LoRA with { RankPattern = new Dictionary<string, int> { ["value"] = 4 } },
        ["alpha pattern"] = new LrcmtOptions().LoRA with { AlphaPattern = new Dictionary<string, double> { ["value"] = 4 } },
        ["all-linear"] = new LrcmtOptions().LoRA with { TargetModules = [LoRAConfig.AllLinear] },
        ["dropout on substituted layers"] = new LrcmtOptions().LoRA with { AllowDropoutOnSubstitutedLayers = true },
    };

    [Theory]
    [InlineData("layers")]
    [InlineData("layers and pattern")]
    [InlineData("rsLoRA")]
    [InlineData("DoRA")]
    [InlineData("bias")]
    [InlineData("init")]
    [InlineData("task type")]
    [InlineData("regex")]
    [InlineData("exclude")]
    [InlineData("rank pattern")]
    [InlineData("alpha pattern")]
    [InlineData("all-linear")]
    [InlineData("dropout on substituted layers")]
    public void A_lora_configuration_comes_back_from_the_adapter_folder_as_injected(string variant)
    {
        string folder = Path.Combine(_root, "model");
        using var model = TinyBert(EncoderTuning.Frozen, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression)
            .WithLoRA(LoRAVariants[variant]).Build();

        model.Save(folder);

        LRCMTModel.ReadOptions(folder).Should().Be(model.Options);
    }

    [Fact]
    public void A_non_lora_model_saves_its_lora_section_with_the_rest_of_the_description()
    {
        string folder = Path.Combine(_root, "model");
        using var model = TinyBert(EncoderTuning.Frozen, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build();
        model.Save(folder);

        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, LrcmtModelFolder.ConfigFileName)))!.AsObject();
        root["lora_adapter"].Should().BeNull();
        root["options"]!["LoRA"]!["Rank"]!.GetValue<int>().Should().Be(model.Options.LoRA.Rank);
        Directory.Exists(Path.Combine(folder, LrcmtModelFolder.AdapterFolderName)).Should().BeFalse();
    }

    [Theory]
    [InlineData("lora-regression", EncoderTuning.LoRA, HeadKind.Regression)]
    [InlineData("frozen-classification", EncoderTuning.Frozen, HeadKind.Classification)]
    public void A_format_1_folder_saved_by_the_earlier_release_loads_with_its_predictions(string name, EncoderTuning tuning, HeadKind head)
    {
        string fixtures = Fixtures.File("models", "format1");
        var expected = File.ReadAllLines(Path.Combine(fixtures, name + ".expected.txt")).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        manual_seed(7);
        using var batch = ModelTestData.Batch();

        using var loaded = LRCMTModel.Load(Path.Combine(fixtures, name), BertModel.FromPretrained(Fixtures.TinyBertFolder));
        using var output = loaded.call(batch);

        output.data<float>().ToArray().Should().Equal(expected, (a, e) => Math.Abs(a - e) <= 1e-6);
        loaded.Options.TextEncoder.Tuning.Should().Be(tuning);
        loaded.Options.TextEncoder.BaseDType.Should().Be(BaseDType.Float32, "format 1 did not record it; those models always loaded on float32");
        loaded.Options.Head.Kind.Should().Be(head);
        loaded.Options.Fusion.Should().Be(new LrcmtOptions().Fusion with
        {
            Width = 8, Heads = 2, Layers = 1, EmbeddingDropout = 0.25, RelativeTimeBias = tuning == EncoderTuning.LoRA,
        });
        if (tuning == EncoderTuning.LoRA) loaded.Options.LoRA.Should().Be(new LrcmtOptions().LoRA with { Rank = 2, Init = LoRAInit.BothRandom });
    }

    [Fact]
    public void A_format_1_fusion_that_omits_a_setting_takes_the_default_of_that_release()
    {
        string folder = Path.Combine(_root, "old");
        CopyFolder(Fixtures.File("models", "format1", "frozen-classification"), folder);
        string manifest = Path.Combine(folder, LrcmtModelFolder.ConfigFileName);
        var root = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        root["architecture"]!["Fusion"]!.AsObject().Remove("RelativeTimeBias");
        root["architecture"]!["Fusion"]!.AsObject().Remove("EmbeddingDropout");
        File.WriteAllText(manifest, root.ToJsonString());

        var options = LRCMTModel.ReadOptions(folder);

        options.Fusion.RelativeTimeBias.Should().Be(LrcmtPresets.Paper.Fusion.RelativeTimeBias);
        options.Fusion.EmbeddingDropout.Should().Be(LrcmtPresets.Paper.Fusion.EmbeddingDropout);
        options.Fusion.Width.Should().Be(8);
    }

    public static TheoryData<string, string, Type> TamperedManifests() => new()
    {
        { "format", "99", typeof(CorruptFileException) },
        { "lora_adapter", "\"../elsewhere\"", typeof(CorruptFileException) },
        { "base_encoder_sha256", $"\"{new string('0', 64)}\"", typeof(BaseEncoderMismatchException) },
        { "options.Fusion.Heads", "3", typeof(InvalidConfigurationException) },
        { "options.TextEncoder.BaseDType", "\"Float64\"", typeof(CorruptFileException) },
        { "options.TextEncoder.Tuning", "1", typeof(CorruptFileException) },
    };

    [Theory]
    [MemberData(nameof(TamperedManifests))]
    public void A_tampered_manifest_field_is_refused_as_an_edit_and_if_resealed_by_the_check_behind_it(string field, string value, Type error)
    {
        string folder = Path.Combine(_root, "model");
        using (var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build())
            model.Save(folder);
        var root = SavedModelFiles.Manifest(folder);
        SavedModelFiles.Set(root, field, JsonNode.Parse(value));
        SavedModelFiles.WriteNaively(folder, root);

        var naive = () => LRCMTModel.Load(folder);

        naive.Should().Throw<CorruptFileException>().WithMessage(field == "format" ? "*format 99*" : "*edited after the model was saved*");

        SavedModelFiles.Forge(folder);
        var forged = () => LRCMTModel.Load(folder);

        var thrown = forged.Should().Throw<LrcmtException>().Which;
        thrown.Should().BeOfType(error);
        if (thrown is InvalidConfigurationException invalid) invalid.Problems.Should().ContainSingle().Which.Path.Should().Be("Fusion.Heads");
    }

    [Fact]
    public void A_different_base_encoder_is_refused_with_both_hashes()
    {
        string folder = Path.Combine(_root, "model");
        using (var model = TinyBert(EncoderTuning.LoRA, InteractionMode.AcousticVisualFirst, false, HeadKind.Regression).Build())
            model.Save(folder);
        var other = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using Scalar nudge = 1e-3f;
        using (no_grad()) other.parameters().First().add_(nudge, RootedScalars.One);

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
        SavedModelFiles.Forge(folder); // else the file's hash refuses it before its keys are compared

        var act = () => LRCMTModel.Load(folder);

        var error = act.Should().Throw<CheckpointMismatchException>().Which;
        error.MissingKeys.Should().Equal(dropped);
        error.ShapeMismatches.Should().ContainSingle(s => s.StartsWith(victim));
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void A_model_on_an_encoder_given_in_code_without_a_source_loads_only_with_the_encoder_passed_again()
    {
        string folder = Path.Combine(_root, "model");
        using (var model = ModelTestData.Model()) model.Save(folder);

        var withoutEncoder = () => LRCMTModel.Load(folder);

        withoutEncoder.Should().Throw<InvalidConfigurationException>().WithMessage("*given in code*");
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
