using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.PeftVerbs.PeftVerbSupport;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank.PeftVerbs;

/// <summary>
/// PEFT's add_weighted_adapter (every combination method, negative weights, density, majority sign) against
/// Fixtures/peft/weighted_adapter_reference.py, and the verb on every adaptation path.
/// </summary>
public sealed class WeightedAdapterTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-weighted-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, Tensor> _reference = SafetensorsFile.Load(Fixtures.File("peft", "weighted_adapter.safetensors"));

    public void Dispose()
    {
        foreach (var t in _reference.Values) t.Dispose();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static readonly (string Name, int Rank, double Alpha)[] Sources = [("a", 2, 4), ("b", 2, 2), ("c", 2, 3), ("d", 3, 3)];

    /// <summary>One 10 → 8 projection carrying the reference's four adapters.</summary>
    private ReplacementHolder ReferenceModel()
    {
        torch.manual_seed(1);
        var model = Eval(new ReplacementHolder(10, 8));
        foreach (var (name, rank, alpha) in Sources)
        {
            LowRankInjector.Inject(model, new LoRAConfig { Rank = rank, Alpha = alpha, TargetModules = ["proj"] }, name);
            var (a, b, _) = model.Layer.AdapterMatrices(name);
            using (no_grad())
            {
                a.copy_(_reference[$"source_{name}_A"]);
                b.copy_(_reference[$"source_{name}_B"]);
            }
        }
        return model;
    }

    public static TheoryData<string, AdapterCombinationMethod, string, int, double?, MajoritySignMethod, double?> Cases => new()
    {
        { "linear", AdapterCombinationMethod.Linear, "abc", 2, null, MajoritySignMethod.Total, null },
        { "cat", AdapterCombinationMethod.Cat, "abd", 7, null, MajoritySignMethod.Total, null },
        { "svd", AdapterCombinationMethod.Svd, "abd", 3, null, MajoritySignMethod.Total, null },
        { "svd_clamp", AdapterCombinationMethod.Svd, "abd", 3, null, MajoritySignMethod.Total, 0.9 },
        { "ties", AdapterCombinationMethod.Ties, "abc", 2, 0.5, MajoritySignMethod.Total, null },
        { "ties_frequency", AdapterCombinationMethod.Ties, "abc", 2, 0.5, MajoritySignMethod.Frequency, null },
        { "ties_svd", AdapterCombinationMethod.TiesSvd, "abd", 3, 0.5, MajoritySignMethod.Total, null },
        { "magnitude_prune", AdapterCombinationMethod.MagnitudePrune, "abc", 2, 0.6, MajoritySignMethod.Total, null },
        { "magnitude_prune_svd", AdapterCombinationMethod.MagnitudePruneSvd, "abd", 3, 0.6, MajoritySignMethod.Total, null },
        { "dare_linear", AdapterCombinationMethod.DareLinear, "abc", 2, 0.5, MajoritySignMethod.Total, null },
        { "dare_ties", AdapterCombinationMethod.DareTies, "abc", 2, 0.5, MajoritySignMethod.Frequency, null },
        { "dare_linear_svd", AdapterCombinationMethod.DareLinearSvd, "abd", 3, 0.5, MajoritySignMethod.Total, null },
        { "dare_ties_svd", AdapterCombinationMethod.DareTiesSvd, "abd", 3, 0.5, MajoritySignMethod.Total, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_method_matches_PEFTs_definition(string name, AdapterCombinationMethod method, string adapters, int rank, double? density, MajoritySignMethod sign, double? clamp)
    {
        var model = ReferenceModel();
        int drawn = 0;
        // The random drops replay the reference's masks, in the order PEFT draws them.
        TaskArithmetic.MaskDraw replay = (like, _) => _reference[$"{name}_mask{drawn++}"].clone();
        var combination = new AdapterCombination { Method = method, Density = density, MajoritySign = sign, SvdClamp = clamp, SvdRank = method is AdapterCombinationMethod.Cat ? null : rank };

        var config = WeightedAdapter.Add(model, [.. adapters.Select(c => c.ToString())], [0.7, -0.4, 1.2], "merged", combination, replay);

        (config.Rank, config.Alpha, config.UseRsLora).Should().Be((rank, rank, false), "PEFT sets r = lora_alpha = the new rank");
        config.TargetModules.Should().Equal("proj");
        drawn.Should().Be(_reference.Keys.Count(k => k.StartsWith($"{name}_mask", StringComparison.Ordinal)));
        var (a, b, _) = model.Layer.AdapterMatrices("merged");
        var expectedA = _reference[$"{name}_A"];
        var expectedB = _reference[$"{name}_B"];
        if (combination.UsesSvd)
        {
            // SVD factors are unique up to each component's sign (LAPACK builds differ): align before comparing.
            var flip = b.detach().mul(expectedB).sum(0L).sign();
            (a, b) = (new(a.detach().mul(flip.unsqueeze(1))), new(b.detach().mul(flip.unsqueeze(0))));
        }
        MaxDiff(a, expectedA).Should().BeLessThanOrEqualTo(1e-5);
        MaxDiff(b, expectedB).Should().BeLessThanOrEqualTo(1e-5);
        model.Layer.ScalingOf("merged").Should().Be(1.0);
    }

    [Fact]
    public void Cat_is_exact_and_svd_at_full_rank_is_exact_in_PEFTs_terms()
    {
        var model = ReferenceModel();
        double[] weights = [0.7, -0.4, 1.2];
        model.AddWeightedAdapter(["a", "b", "d"], weights, "cat", new AdapterCombination { Method = AdapterCombinationMethod.Cat });
        model.AddWeightedAdapter(["a", "b", "d"], weights, "svd", new AdapterCombination { SvdRank = 8 });

        var layer = model.Layer;
        // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars.One is the alpha of add)
        using Scalar w0 = weights[0], w1 = weights[1], w2 = weights[2];
        var expected = layer.DeltaWeight("a").mul(w0).add(layer.DeltaWeight("b").mul(w1), RootedScalars.One).add(layer.DeltaWeight("d").mul(w2), RootedScalars.One);
        MaxDiff(layer.DeltaWeight("cat"), expected).Should().BeLessThanOrEqualTo(1e-5, "cat stacks the weighted adapters: Σ wᵢ·sᵢ·Bᵢ·Aᵢ");
        // PEFT weights each update sᵢ·Bᵢ·Aᵢ by wᵢ·sᵢ for the SVD methods.
        using Scalar s0 = weights[0] * 2, s1 = weights[1] * 1, s2 = weights[2] * 1;
        var expectedSvd = layer.DeltaWeight("a").mul(s0).add(layer.DeltaWeight("b").mul(s1), RootedScalars.One).add(layer.DeltaWeight("d").mul(s2), RootedScalars.One);
        MaxDiff(layer.DeltaWeight("svd"), expectedSvd).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void DARE_is_repeatable_under_a_seed_and_density_one_keeps_everything()
    {
        Tensor Merged(AdapterCombination combination)
        {
            var model = ReferenceModel();
            model.AddWeightedAdapter(["a", "b", "c"], [0.7, -0.4, 1.2], "m", combination);
            return model.Layer.DeltaWeight("m");
        }
        var dare = new AdapterCombination { Method = AdapterCombinationMethod.DareTies, Density = 0.5, Seed = 11 };

        MaxDiff(Merged(dare), Merged(dare)).Should().Be(0);
        MaxDiff(Merged(dare), Merged(dare with { Seed = 12 })).Should().BeGreaterThan(1e-4);
        MaxDiff(Merged(new AdapterCombination { Method = AdapterCombinationMethod.DareLinear, Density = 1 }),
                Merged(new AdapterCombination { Method = AdapterCombinationMethod.Linear })).Should().Be(0);
    }

    [Fact]
    public void Wrong_requests_are_typed_errors_and_change_nothing()
    {
        var model = ReferenceModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, UseDora = true, TargetModules = ["proj"] }, "dora");
        var before = model.AdapterNames().ToList();

        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "nope"], [1, 1], "m")).Should().Throw<AdapterException>().WithMessage("*'nope'*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "dora"], [1, 1], "m")).Should().Throw<AdapterException>().WithMessage("*'dora'*DoRA*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "d"], [1, 1], "m", new AdapterCombination { Method = AdapterCombinationMethod.Linear }))
            .Should().Throw<AdapterException>().WithMessage("*one rank*'a' r = 2*'d' r = 3*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "b"], [1, 1], "c")).Should().Throw<AdapterException>().WithMessage("*'c'*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "b"], [1, 1], "m", new AdapterCombination { Method = AdapterCombinationMethod.Ties }))
            .Should().Throw<InvalidConfigurationException>().WithMessage("*Density*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "b"], [1], "m")).Should().Throw<InvalidConfigurationException>().WithMessage("*one weight per adapter*");
        FluentActions.Invoking(() => model.AddWeightedAdapter(["a", "b"], [1, 1], "m", new AdapterCombination { SvdRank = 9 }))
            .Should().Throw<InvalidConfigurationException>().WithMessage("*SvdRank*min(in_features 10, out_features 8) = 8*");

        model.AdapterNames().Should().Equal(before);
    }

    [Fact]
    public void On_every_path_the_combination_is_a_working_adapter_that_saves_and_loads_as_plain_LoRA()
    {
        foreach (var (path, model, targets, input, _) in Paths())
        {
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, Init = LoRAInit.BothRandom, TargetModules = targets }, "x");
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 2, Init = LoRAInit.BothRandom, TargetModules = targets }, "y");
            var config = model.AddWeightedAdapter(["x", "y"], [1.0, -0.5], "xy", new AdapterCombination { Method = AdapterCombinationMethod.Cat });

            using Scalar half = 0.5;
            foreach (var layer in model.modules().OfType<LoRALayer>().Where(l => l.AdapterNames.Contains("x")))
                MaxDiff(layer.DeltaWeight("xy"), layer.DeltaWeight("x").sub(layer.DeltaWeight("y").mul(half))).Should().BeLessThanOrEqualTo(1e-5, path);

            model.SetAdapter("xy");
            using var x = input(2);
            using var combined = model.call(x);
            var folder = Path.Combine(_folder, path);
            PeftAdapterFile.Save(model, folder, "xy");
            PeftAdapterFile.ReadConfig(folder).Should().Be(config with { TargetModules = PeftAdapterFile.ReadConfig(folder).TargetModules }, path);

            var fresh = Paths().First(p => p.Path == path).Model;
            PeftAdapterFile.Load(fresh, folder, "xy");
            using var reloaded = fresh.call(x);
            MaxDiff(reloaded, combined).Should().BeLessThanOrEqualTo(1e-5, path);
        }
    }

    /// <summary>A model whose only child is one projection, <c>proj</c>.</summary>
    private sealed class ReplacementHolder : nn.Module<Tensor, Tensor>
    {
        private nn.Module<Tensor, Tensor> proj;

        public ReplacementHolder(long inFeatures, long outFeatures) : base(nameof(ReplacementHolder))
        {
            proj = nn.Linear(inFeatures, outFeatures);
            RegisterComponents();
        }

        public LoRALayer Layer => (LoRALayer)proj;

        public override Tensor forward(Tensor x) => proj.call(x);
    }
}
