using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.PeftVerbs.PeftVerbSupport;

namespace LRCMT.Tests.LowRank.PeftVerbs;

/// <summary>
/// PEFT's hot-swap (<c>hotswap_adapter</c>): another adapter's weights go into an injected slot in place. The reference
/// is the same folder loaded into a fresh copy of the model the ordinary way (<see cref="PeftAdapterFile.Load"/>).
/// </summary>
public sealed class HotSwapTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-hotswap-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private string SaveAdapter(string path, string name, LoRAConfig config)
    {
        var donor = Paths().First(p => p.Path == path).Model;
        LowRankInjector.Inject(donor, config, name);
        var folder = Path.Combine(_folder, path, name);
        PeftAdapterFile.Save(donor, folder, name);
        return folder;
    }

    [Fact]
    public void On_every_path_a_smaller_rank_swaps_in_place_and_computes_what_loading_it_computes()
    {
        foreach (var (path, model, targets, input, _) in Paths())
        {
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = targets }, "default");
            var folder = SaveAdapter(path, "small", new LoRAConfig { Rank = 2, Alpha = 3, Init = LoRAInit.BothRandom, TargetModules = targets });
            var modules = model.modules().ToList();
            var parameters = model.parameters().Select(p => p.Handle).ToList();
            using var x = input(2);
            using var before = model.call(x);

            PeftAdapterFile.HotSwap(model, folder);

            var reference = Paths().First(p => p.Path == path).Model;
            PeftAdapterFile.Load(reference, folder, "default");
            using var expected = reference.call(x);
            using var swapped = model.call(x);
            MaxDiff(swapped, expected).Should().BeLessThanOrEqualTo(1e-6, path);
            MaxDiff(swapped, before).Should().BeGreaterThan(1e-4, $"{path}: the swap changes the output");
            model.modules().Should().Equal(modules, (a, b) => ReferenceEquals(a, b), $"{path}: no module is replaced");
            model.parameters().Select(p => p.Handle).Should().Equal(parameters, $"{path}: no tensor is replaced");
            foreach (var layer in model.modules().OfType<LoRALayer>())
                layer.RankOf("default").Should().Be(4, $"{path}: the slot keeps its rank");

            // The record states what the slot computes: saving and loading it again gives the same output.
            var resaved = Path.Combine(_folder, path, "resaved");
            PeftAdapterFile.Save(model, resaved);
            var again = Paths().First(p => p.Path == path).Model;
            PeftAdapterFile.Load(again, resaved, "default");
            using var reloaded = again.call(x);
            MaxDiff(reloaded, expected).Should().BeLessThanOrEqualTo(1e-6, path);
        }
    }

    [Fact]
    public void A_larger_rank_or_other_targets_are_typed_errors_and_change_nothing()
    {
        var (path, model, targets, input, _) = Paths().First();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, Init = LoRAInit.BothRandom, TargetModules = targets }, "default");
        var larger = SaveAdapter(path, "larger", new LoRAConfig { Rank = 3, Alpha = 4, Init = LoRAInit.BothRandom, TargetModules = targets });
        var otherTargets = SaveAdapter(path, "other", new LoRAConfig { Rank = 2, Alpha = 4, Init = LoRAInit.BothRandom, TargetModules = [targets[0]] });
        var rsLora = SaveAdapter(path, "rs", new LoRAConfig { Rank = 2, Alpha = 4, UseRsLora = true, Init = LoRAInit.BothRandom, TargetModules = targets });
        using var x = input(2);
        using var before = model.call(x);

        FluentActions.Invoking(() => PeftAdapterFile.HotSwap(model, larger))
            .Should().Throw<AdapterException>().WithMessage("*larger rank*rank 3 in the file, 2 in the slot*");
        FluentActions.Invoking(() => PeftAdapterFile.HotSwap(model, otherTargets))
            .Should().Throw<AdapterConfigMismatchException>().WithMessage("*target_modules*");
        FluentActions.Invoking(() => PeftAdapterFile.HotSwap(model, rsLora))
            .Should().Throw<AdapterConfigMismatchException>().WithMessage("*use_rslora*");
        FluentActions.Invoking(() => PeftAdapterFile.HotSwap(model, larger, "missing"))
            .Should().Throw<AdapterException>().WithMessage("*'missing'*");

        using var after = model.call(x);
        MaxDiff(after, before).Should().Be(0);
    }

    [Fact]
    public void An_rsLoRA_slot_keeps_the_files_scaling_alpha_over_root_r_and_records_it()
    {
        var (path, model, targets, input, _) = Paths().First();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, UseRsLora = true, Init = LoRAInit.BothRandom, TargetModules = targets }, "default");
        var folder = SaveAdapter(path, "rs-small", new LoRAConfig { Rank = 2, Alpha = 3, UseRsLora = true, Init = LoRAInit.BothRandom, TargetModules = targets });
        using var x = input(2);

        PeftAdapterFile.HotSwap(model, folder);

        model.modules().OfType<LoRALayer>().Select(l => l.ScalingOf("default")).Should().AllSatisfy(s => s.Should().BeApproximately(3 / Math.Sqrt(2), 1e-12));
        model.GetAdapterConfig("default").Alpha.Should().BeApproximately(3 / Math.Sqrt(2) * Math.Sqrt(4), 1e-12);
        var reference = Paths().First().Model;
        PeftAdapterFile.Load(reference, folder, "default");
        using var swapped = model.call(x);
        using var expected = reference.call(x);
        MaxDiff(swapped, expected).Should().BeLessThanOrEqualTo(1e-6);
    }

    [Fact]
    public void A_DoRA_slot_takes_the_magnitudes_too_and_a_PiSSA_slot_is_refused()
    {
        var (path, model, targets, input, _) = Paths().First();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 3, Alpha = 4, UseDora = true, Init = LoRAInit.BothRandom, TargetModules = targets }, "default");
        var folder = SaveAdapter(path, "dora", new LoRAConfig { Rank = 2, Alpha = 2, UseDora = true, Init = LoRAInit.BothRandom, TargetModules = targets });
        using var x = input(2);

        PeftAdapterFile.HotSwap(model, folder);

        var reference = Paths().First().Model;
        PeftAdapterFile.Load(reference, folder, "default");
        using var swapped = model.call(x);
        using var expected = reference.call(x);
        MaxDiff(swapped, expected).Should().BeLessThanOrEqualTo(1e-6);

        var (_, pissa, pissaTargets, _, _) = Paths().First();
        LowRankInjector.Inject(pissa, new LoRAConfig { Rank = 2, Alpha = 2, Init = LoRAInit.PiSSA, TargetModules = pissaTargets }, "default");
        var plain = SaveAdapter(path, "plain", new LoRAConfig { Rank = 2, Alpha = 2, Init = LoRAInit.BothRandom, TargetModules = targets });
        FluentActions.Invoking(() => PeftAdapterFile.HotSwap(pissa, plain)).Should().Throw<AdapterException>().WithMessage("*PiSSA*base weights*");
    }
}
