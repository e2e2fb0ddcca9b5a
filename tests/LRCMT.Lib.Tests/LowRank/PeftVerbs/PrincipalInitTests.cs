using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Quantization;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.PeftVerbs.PeftVerbSupport;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank.PeftVerbs;

/// <summary>
/// PiSSA and OLoRA (PEFT's <c>init_lora_weights</c> "pissa", "pissa_niter_k", "olora") against
/// Fixtures/peft/principal_init_reference.py, on every adaptation path, and their conversion to a plain LoRA adapter.
/// </summary>
public sealed class PrincipalInitTests : IDisposable
{
    private const int Rank = 3;
    private const double Alpha = 6, Scaling = Alpha / Rank;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-pissa-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, Tensor> _reference = SafetensorsFile.Load(Fixtures.File("peft", "principal_init.safetensors"));

    public void Dispose()
    {
        foreach (var t in _reference.Values) t.Dispose();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static LoRAConfig Config(LoRAInit init, int? iterations = null)
        => new() { Rank = Rank, Alpha = Alpha, Init = init, PissaIterations = iterations, TargetModules = ["x"] };

    // SVD and QR factors are unique up to the sign of each component (LAPACK builds differ): flip B's columns and A's rows together.
    private static (Tensor A, Tensor B) AlignedTo(Tensor a, Tensor b, Tensor referenceB)
    {
        var sign = b.mul(referenceB).sum(0L).sign();
        return (a.mul(sign.unsqueeze(1)), b.mul(sign.unsqueeze(0)));
    }

    [Theory]
    [InlineData("pissa", "tall")]
    [InlineData("pissa", "wide")]
    [InlineData("olora", "tall")]
    [InlineData("olora", "wide")]
    public void A_layer_initialised_as_PEFT_defines_it_matches_the_reference(string method, string shape)
    {
        using var layer = new LoRALinear(new Parameter(_reference[shape].clone(), requires_grad: false), null);
        layer.AddAdapter("default", Config(method == "pissa" ? LoRAInit.PiSSA : LoRAInit.OLoRA));

        var (a, b, _) = layer.AdapterMatrices("default");
        var (alignedA, alignedB) = AlignedTo(a.detach(), b.detach(), _reference[$"{method}_{shape}_B"]);
        MaxDiff(alignedA, _reference[$"{method}_{shape}_A"]).Should().BeLessThanOrEqualTo(1e-5);
        MaxDiff(alignedB, _reference[$"{method}_{shape}_B"]).Should().BeLessThanOrEqualTo(1e-5);
        MaxDiff(layer.Weight, _reference[$"{method}_{shape}_residual"]).Should().BeLessThanOrEqualTo(1e-5, "W0 becomes the residual W0 − s·B·A");
    }

    [Theory]
    [InlineData("tall")]
    [InlineData("wide")]
    public void The_fast_randomised_SVD_with_the_references_test_matrix_matches_the_reference(string shape)
    {
        var (a, b) = PrincipalInit.Pissa(_reference[shape], Rank, Scaling, iterations: 2, testMatrix: _reference[$"omega_{shape}"]);

        var (alignedA, alignedB) = AlignedTo(a, b, _reference[$"pissa_niter2_{shape}_B"]);
        MaxDiff(alignedA, _reference[$"pissa_niter2_{shape}_A"]).Should().BeLessThanOrEqualTo(1e-5);
        MaxDiff(alignedB, _reference[$"pissa_niter2_{shape}_B"]).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void Fast_PiSSA_is_repeatable_under_a_seed_and_approaches_the_exact_one_with_more_iterations()
    {
        Tensor Fast(int iterations, int seed)
        {
            torch.manual_seed(seed);
            using var layer = new LoRALinear(new Parameter(_reference["tall"].clone(), requires_grad: false), null);
            layer.AddAdapter("default", Config(LoRAInit.PiSSA, iterations));
            return layer.Weight.detach().clone();
        }
        using var exact = new LoRALinear(new Parameter(_reference["tall"].clone(), requires_grad: false), null);
        exact.AddAdapter("default", Config(LoRAInit.PiSSA));

        MaxDiff(Fast(1, 3), Fast(1, 3)).Should().Be(0, "the same seed draws the same test matrix");
        MaxDiff(Fast(0, 3), Fast(0, 4)).Should().BeGreaterThan(1e-4, "another seed draws another test matrix");
        MaxDiff(Fast(60, 3), exact.Weight).Should().BeLessThan(1e-3, "subspace iterations converge to the principal subspace");
    }

    [Theory]
    [InlineData(LoRAInit.PiSSA, null)]
    [InlineData(LoRAInit.PiSSA, 2)]
    [InlineData(LoRAInit.OLoRA, null)]
    public void On_every_path_the_output_is_unchanged_and_the_residual_plus_the_adapter_is_W0(LoRAInit init, int? iterations)
    {
        foreach (var (path, model, targets, input, _) in Paths())
        {
            using var x = input(2);
            using var before = model.call(x);
            var weightsBefore = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

            LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, Init = init, PissaIterations = iterations, TargetModules = targets });
            using var after = model.call(x);

            MaxDiff(after, before).Should().BeLessThanOrEqualTo(1e-5, $"{path}: the principal part moves from W0 into the adapter");
            var changed = weightsBefore.Where(kv => MaxDiff(model.state_dict()[kv.Key], kv.Value) > 1e-4).Select(kv => kv.Key).ToList();
            changed.Should().NotBeEmpty($"{path}: the base weights become residuals");
            using (model.DisableAdapters())
            using (var residualOnly = model.call(x))
                MaxDiff(residualOnly, before).Should().BeGreaterThan(1e-3, $"{path}: without the adapter the residual model differs");
        }
    }

    [Theory]
    [InlineData(LoRAInit.PiSSA)]
    [InlineData(LoRAInit.OLoRA)]
    public void On_every_path_a_saved_trained_adapter_loads_onto_the_original_model_as_PEFT_loads_it(LoRAInit init)
    {
        // PEFT re-runs the initialisation on the original weights when it loads such an adapter (the residual is the
        // same whatever the factors' signs), then uses the trained A and B from the file.
        foreach (var (path, model, targets, input, _) in Paths())
        {
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, Init = init, TargetModules = targets });
            using Scalar scale = 0.1; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
            using (no_grad())
                foreach (var layer in model.modules().OfType<LoRALayer>())
                {
                    var (a, b, _) = layer.AdapterMatrices("default");
                    a.add_(randn_like(a).mul(scale), RootedScalars.One);
                    b.add_(randn_like(b).mul(scale), RootedScalars.One);
                }
            LowRankInjector.RefreshAdapters(model);
            using var x = input(2);
            using var trained = model.call(x);
            var folder = Path.Combine(_folder, "trained-" + init + "-" + path);
            PeftAdapterFile.Save(model, folder);

            var original = Paths().First(p => p.Path == path).Model;
            PeftAdapterFile.Load(original, folder);
            using var loaded = original.call(x);

            MaxDiff(loaded, trained).Should().BeLessThanOrEqualTo(1e-5, path);
        }
    }

    [Fact]
    public void A_quantized_base_refuses_an_initialisation_that_changes_W0()
    {
        using var layer = new QuantizedLinear(_reference["tall"], null);
        FluentActions.Invoking(() => layer.AddAdapter("default", Config(LoRAInit.PiSSA)))
            .Should().Throw<AdapterException>().WithMessage("*PiSSA*int8*");
        layer.AdapterNames.Should().BeEmpty();
    }

    [Fact]
    public void PissaIterations_is_only_valid_with_PiSSA()
    {
        Config(LoRAInit.Default, 4).FindProblems().Should().ContainSingle(p => p.Path == nameof(LoRAConfig.PissaIterations));
        Config(LoRAInit.PiSSA, -1).FindProblems().Should().ContainSingle(p => p.Path == nameof(LoRAConfig.PissaIterations));
        Config(LoRAInit.PiSSA, 0).FindProblems().Should().BeEmpty();
    }

    [Theory]
    [InlineData(LoRAInit.PiSSA, null, "\"pissa\"")]
    [InlineData(LoRAInit.PiSSA, 4, "\"pissa_niter_4\"")]
    [InlineData(LoRAInit.OLoRA, null, "\"olora\"")]
    public void Adapter_config_json_carries_the_initialisation_under_PEFTs_name(LoRAInit init, int? iterations, string json)
    {
        var model = Eval(new ReplacementModel());
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = init, PissaIterations = iterations, TargetModules = ["up"] });
        PeftAdapterFile.Save(model, _folder);

        File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)).Should().Contain($"\"init_lora_weights\": {json}");
        var read = PeftAdapterFile.ReadConfig(_folder);
        (read.Init, read.PissaIterations).Should().Be((init, iterations));
    }

    [Fact]
    public void A_trained_PiSSA_adapter_converts_to_a_plain_LoRA_adapter_on_the_original_weight()
    {
        var original = _reference["tall"];
        using var layer = new LoRALinear(new Parameter(original.clone(), requires_grad: false), null);
        var model = new Holder(layer);
        LowRankInjector.Inject(model, Config(LoRAInit.PiSSA) with { TargetModules = ["proj"] });
        var initial = Path.Combine(_folder, "initial");
        PeftAdapterFile.Save(model, initial);

        // "Training": the reference's trained A and B, expressed in this SVD's signs.
        var (a, b, _) = layer.AdapterMatrices("default");
        var sign = b.detach().mul(_reference["pissa_tall_B"]).sum(0L).sign();
        using (no_grad())
        {
            a.copy_(_reference["trained_A"].mul(sign.unsqueeze(1)));
            b.copy_(_reference["trained_B"].mul(sign.unsqueeze(0)));
        }
        var converted = Path.Combine(_folder, "converted");
        PeftAdapterFile.SaveConvertedToLoRA(model, converted, initial);

        var file = SafetensorsFile.Load(Path.Combine(converted, PeftAdapterFile.WeightsFileName));
        var convertedA = file["base_model.model.proj.lora_A.weight"];
        var convertedB = file["base_model.model.proj.lora_B.weight"];
        var fullSign = cat([sign, sign]);
        MaxDiff(convertedA.mul(fullSign.unsqueeze(1)), _reference["converted_A"]).Should().BeLessThanOrEqualTo(1e-5);
        MaxDiff(convertedB.mul(fullSign.unsqueeze(0)), _reference["converted_B"]).Should().BeLessThanOrEqualTo(1e-5);
        var config = PeftAdapterFile.ReadConfig(converted);
        (config.Rank, config.Alpha, config.Init).Should().Be((2 * Rank, 2 * Alpha, LoRAInit.Default));

        // Loaded as plain LoRA onto the original weight, it computes what the trained PiSSA model computes.
        using var x = randn(5, 10);
        using var trained = model.call(x);
        var fresh = new Holder(new LoRALinear(new Parameter(original.clone(), requires_grad: false), null));
        PeftAdapterFile.Load(fresh, converted);
        using var reloaded = fresh.call(x);
        MaxDiff(reloaded, trained).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void Conversion_refuses_an_initial_folder_of_another_shape_and_keeps_rsLoRA_scaling()
    {
        var model = new Holder(new LoRALinear(new Parameter(_reference["tall"].clone(), requires_grad: false), null));
        LowRankInjector.Inject(model, Config(LoRAInit.OLoRA) with { TargetModules = ["proj"], UseRsLora = true });
        var other = new Holder(new LoRALinear(new Parameter(_reference["tall"].clone(), requires_grad: false), null));
        LowRankInjector.Inject(other, Config(LoRAInit.OLoRA) with { Rank = 2, TargetModules = ["proj"] });
        var initial = Path.Combine(_folder, "initial");
        PeftAdapterFile.Save(other, initial);

        FluentActions.Invoking(() => PeftAdapterFile.SaveConvertedToLoRA(model, Path.Combine(_folder, "x"), initial))
            .Should().Throw<CheckpointMismatchException>().WithMessage("*proj.lora_A.weight*[3, 10]*[2, 10]*");

        PeftAdapterFile.Save(model, initial);
        PeftAdapterFile.SaveConvertedToLoRA(model, Path.Combine(_folder, "y"), initial);
        var config = PeftAdapterFile.ReadConfig(Path.Combine(_folder, "y"));
        config.ScalingFor(config.Rank, config.Alpha).Should().BeApproximately(Alpha / Math.Sqrt(Rank), 1e-9, "rsLoRA keeps α/√r when r doubles");
    }

    private sealed class Holder : nn.Module<Tensor, Tensor>
    {
        private nn.Module<Tensor, Tensor> proj;

        public Holder(nn.Module<Tensor, Tensor> layer) : base(nameof(Holder))
        {
            proj = layer;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => proj.call(x);
    }
}
