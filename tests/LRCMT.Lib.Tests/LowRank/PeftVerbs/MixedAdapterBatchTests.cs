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
/// PEFT's mixed-adapter batches (<c>adapter_names</c>, <c>"__base__"</c>): each sample's output equals running it alone
/// with its adapter, on every adaptation path, and the output matches Fixtures/peft/mixed_batch_reference.py.
/// </summary>
public sealed class MixedAdapterBatchTests
{
    private static readonly string[] Names = ["a", AdapterControl.BaseAdapterName, "b", "a", "b"];

    private static void AddTwoAdapters(nn.Module model, string[] targets)
    {
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, Init = LoRAInit.BothRandom, TargetModules = targets }, "a");
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 3, Alpha = 3, UseRsLora = true, Init = LoRAInit.BothRandom, TargetModules = targets }, "b");
    }

    [Fact]
    public void On_every_path_each_sample_equals_running_it_alone_with_its_adapter()
    {
        foreach (var (path, model, targets, input, batchDim) in Paths())
        {
            AddTwoAdapters(model, targets);
            using var x = input(Names.Length);
            Tensor mixed;
            using (model.AdaptersPerSample(Names, batchDim))
                mixed = model.call(x);

            for (int i = 0; i < Names.Length; i++)
            {
                using var sample = x.narrow(batchDim, i, 1);
                Tensor alone;
                if (Names[i] == AdapterControl.BaseAdapterName)
                    using (model.DisableAdapters()) alone = model.call(sample);
                else
                {
                    model.SetAdapter(Names[i]);
                    alone = model.call(sample);
                }
                MaxDiff(mixed.narrow(batchDim, i, 1), alone).Should().BeLessThanOrEqualTo(1e-6, $"{path}, sample {i} ({Names[i]})");
            }
            using (model.DisableAdapters())
            using (var baseline = model.call(x))
                MaxDiff(mixed, baseline).Should().BeGreaterThan(1e-3, $"{path}: the adapters change the output");
        }
    }

    [Fact]
    public void The_mixed_batch_matches_PEFTs_definition()
    {
        var reference = SafetensorsFile.Load(Fixtures.File("peft", "mixed_batch.safetensors"));
        var model = Eval(new ReplacementModel());
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["up", "down"] }, "a");
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 3, Alpha = 3, UseRsLora = true, TargetModules = ["down"] }, "b");
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
            foreach (var (key, parameter) in parameters) parameter.copy_(reference[key]);

        Tensor output;
        using (model.AdaptersPerSample(Names))
            output = model.call(reference["input"]);

        MaxDiff(output, reference["output"]).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void After_the_scope_the_active_adapter_computes_every_sample_again()
    {
        var model = Eval(new ReplacementModel());
        AddTwoAdapters(model, ["up", "down"]);
        model.SetAdapter("b");
        using var x = randn(3, 3, 6);
        using var before = model.call(x);

        using (model.AdaptersPerSample(["a", "a", "a"])) model.call(x).Dispose();
        using var after = model.call(x);

        MaxDiff(after, before).Should().Be(0);
    }

    [Fact]
    public void PEFTs_refusals_are_typed_errors()
    {
        var model = Eval(new ReplacementModel());
        AddTwoAdapters(model, ["up", "down"]);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, UseDora = true, TargetModules = ["up"] }, "dora");
        using var x = randn(2, 3, 6);

        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "missing"])).Should().Throw<AdapterException>().WithMessage("*'missing'*");
        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "dora"])).Should().Throw<AdapterException>().WithMessage("*'dora'*DoRA*");
        using (model.AdaptersPerSample(["a", "b", "a"]))
            FluentActions.Invoking(() => model.call(x)).Should().Throw<ShapeMismatchException>().WithMessage("*3 samples*dimension 0*");
        model.train();
        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "b"])).Should().Throw<AdapterException>().WithMessage("*eval()*");
        model.eval();
        model.SetAdapter("a");
        foreach (var layer in model.modules().OfType<LoRALayer>()) layer.Merge();
        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "b"])).Should().Throw<AdapterException>().WithMessage("*merged*");
    }

    [Fact]
    public void A_layer_adapted_in_place_and_invoked_with_forward_is_refused_with_the_fix()
    {
        var model = Eval(new ForwardOnlySubstitutionModel());
        AddTwoAdapters(model, ["up", "down"]);

        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "b"]))
            .Should().Throw<AdapterException>().WithMessage("*'up', 'down'*.forward()*nn.Module<Tensor, Tensor>*");
        FluentActions.Invoking(() => model.AdaptersPerSample(["a", "b"])).Should().Throw<AdapterException>("nothing was left half-open");
        using (model.AdaptersPerSample(["__base__", "__base__"])) { } // no layer needs its input when no adapter is asked for
    }
}
