using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.NoEdit.NoEditSupport;

namespace LRCMT.Tests.LowRank.NoEdit;

/// <summary>
/// Layers adapted in place are rebuilt by the hooks of whichever module on their path the model invokes with
/// .call(); where none is, the report says so, strict mode refuses, and RefreshAdapters or AsTrainable train it.
/// </summary>
public class AutomaticRefreshTests
{
    private const int Steps = 20;

    private static LoRAConfig Config() => new() { Rank = 2, Alpha = 4, TargetModules = ["up", "down"], Init = LoRAInit.BothRandom };

    /// <summary>An ordinary AdamW loop over the trainable parameters of <paramref name="model"/>, running it through <paramref name="run"/>.</summary>
    private static List<double> Train(nn.Module model, Func<Tensor, Tensor> run, Tensor x, Tensor target, int steps, Action? beforeForward = null)
    {
        model.train();
        using var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 0.02);
        var losses = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            beforeForward?.Invoke();
            var loss = nn.functional.mse_loss(run(x), target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        model.eval();
        return losses;
    }

    /// <summary>How the test trains the model adapted in place: the module the optimiser sees, how to run it, what to do before each forward.</summary>
    private sealed record Loop(nn.Module Trained, Func<Tensor, Tensor> Run, Action? BeforeForward = null);

    /// <summary>
    /// Injects the same adapters into the model with sealed projection fields (adapted in place) and into its twin with
    /// replaceable ones (the replacement path), trains both 20 AdamW steps — the twin with <paramref name="runReference"/>,
    /// the other as <paramref name="loop"/> says — and requires the same losses and adapters within 1e-5.
    /// </summary>
    private static void TrainsAsTheReplacementPath<T>(Func<bool, T> create, Func<T, Tensor, Tensor> runReference, long outputs,
        Func<T, InjectionReport, Loop> loop) where T : nn.Module
    {
        var (model, reference) = Twins(() => create(true), () => create(false));
        LowRankInjector.Inject(reference, Config()).Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Replacement);
        var report = LowRankInjector.Inject(model, Config());
        report.Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Substitution);
        CopyAdapters(reference, model);
        torch.manual_seed(8);
        using var x = randn(4, 5, 8);
        using var y = randn(4, outputs);

        var expected = Train(reference, input => runReference(reference, input), x, y, Steps);
        var (trained, run, beforeForward) = loop(model, report);
        var actual = Train(trained, run, x, y, Steps, beforeForward);

        expected[^1].Should().BeLessThan(expected[0], "the adapters must actually train");
        actual.Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-5);
        var referenceState = reference.state_dict();
        foreach (var (key, tensor) in model.state_dict().Where(kv => kv.Key.Contains(".lora_")))
            MaxDifference(tensor, referenceState[key]).Should().BeLessThan(1e-5, key);
    }

    [Fact]
    public void A_root_with_its_own_call_over_blocks_invoked_by_call_trains_with_no_refresh_call()
        => TrainsAsTheReplacementPath(sealedFields => new CallingEncoder(sealedFields), (m, x) => m.call(x), 3,
            (model, _) => new Loop(model, model.call));

    [Fact]
    public void The_report_names_the_block_whose_call_rebuilds_each_layer()
    {
        var model = new CallingEncoder(sealedBlocks: true);
        var report = LowRankInjector.Inject(model, Config());

        report.RefreshesOnCall.Should().BeTrue();
        report.Adapted.Select(a => (a.Path, a.RefreshedBy)).Should().Equal(
            ("blocks.0.up", "blocks.0"), ("blocks.0.down", "blocks.0"), ("blocks.1.up", "blocks.1"), ("blocks.1.down", "blocks.1"));
        report.ToString().Should().Contain("blocks.0.up").And.Contain("rebuilt on blocks.0.call()").And.NotContain("NOT refreshed");
    }

    [Fact]
    public void Each_projection_is_judged_by_how_its_own_field_is_invoked()
    {
        // MixedBlock reads both projections through property getters and invokes Up with .call(), Down with .forward().
        var report = LowRankInjector.Inject(new PlainRoot(), new LoRAConfig { Rank = 2, TargetModules = ["up", "down"] });

        report.Adapted.Select(a => (a.Path, a.RefreshedBy)).Should().Equal(("block.up", "block.up"), ("block.down", null));
        report.ToString().Should().Contain("1 layer(s) adapted in place are not refreshed automatically: 'block.down'")
            .And.Contain("Linear 'block.down' is invoked with .forward() by MixedBlock")
            .And.Contain("MixedBlock 'block' is invoked with .forward() by PlainRoot");
    }

    [Fact]
    public void Children_of_a_Sequential_are_invoked_through_its_hooked_call()
    {
        var report = LowRankInjector.Inject(nn.Sequential(("stack", new AttentionStack(sealedFields: true))), new LoRAConfig { Rank = 2, TargetModules = ["query"] });

        report.Adapted.Should().OnlyContain(a => a.RefreshedBy == "stack");
    }

    [Fact]
    public void A_root_with_its_own_call_over_blocks_invoked_by_forward_is_reported_with_the_reason_and_the_fix()
    {
        var model = new ForwardingEncoder(sealedBlocks: true);
        var report = LowRankInjector.Inject(model, Config());

        report.RefreshesOnCall.Should().BeFalse();
        report.Adapted.Should().OnlyContain(a => a.RefreshedBy == null);
        var text = report.ToString();
        text.Should().Contain("4 layer(s) adapted in place are not refreshed automatically: 'blocks.0.up', 'blocks.0.down', 'blocks.1.up', 'blocks.1.down'")
            .And.Contain("the model (ForwardingEncoder) derives from nn.Module, not nn.Module<…>, so it runs no forward hooks")
            .And.Contain("MlpBlock<Linear> 'blocks.0', 'blocks.1' are invoked with .forward() by ForwardingEncoder")
            .And.Contain("Linear 'blocks.0.up', 'blocks.0.down', 'blocks.1.up', 'blocks.1.down' are invoked with .forward() by MlpBlock<Linear>")
            .And.Contain("call LowRankInjector.RefreshAdapters(model) before each forward")
            .And.Contain("report.AsTrainable<Tensor, Tensor>()")
            .And.Contain("(Substitution, NOT refreshed automatically)");
    }

    [Fact]
    public void A_root_that_hides_Module_call_with_its_own_is_named_as_the_reason()
    {
        var report = LowRankInjector.Inject(new HidingEncoder(), Config());

        report.RefreshesOnCall.Should().BeFalse();
        report.ToString().Should().Contain("HidingEncoder.call is its own and runs no hooks")
            .And.Contain("MlpBlock<Linear> 'blocks.0', 'blocks.1' are invoked with .forward() by HidingEncoder");
    }

    [Fact]
    public void Strict_mode_refuses_layers_that_would_not_be_refreshed_and_changes_nothing()
    {
        var strict = new InjectionOptions { RequireAutomaticRefresh = true };
        var model = new ForwardingEncoder(sealedBlocks: true);
        var before = Snapshot(model);

        var act = () => LowRankInjector.Inject(model, Config(), options: strict);

        act.Should().Throw<AdapterException>().Where(e => e.Message.Contains("'blocks.0.up'") && e.Message.Contains("RefreshAdapters")
                                                          && e.Message.Contains("Nothing was changed"));
        Snapshot(model).ShouldEqualBitwise(before);
        model.modules().OfType<LoRALayer>().Should().BeEmpty();
        LowRankInjector.Inject(new CallingEncoder(sealedBlocks: true), Config(), options: strict).RefreshesOnCall.Should().BeTrue();
    }

    [Fact]
    public void RefreshAdapters_before_each_forward_trains_a_root_that_runs_no_hooks_as_the_replacement_path()
        => TrainsAsTheReplacementPath(sealedFields => new ForwardingEncoder(sealedFields), (m, x) => m.call(x), 3,
            (model, _) => new Loop(model, model.call, () => LowRankInjector.RefreshAdapters(model)));

    [Fact]
    public void The_AsTrainable_wrapper_trains_a_root_that_runs_no_hooks_as_the_replacement_path()
        => TrainsAsTheReplacementPath(sealedFields => new ForwardingEncoder(sealedFields), (m, x) => m.call(x), 3, (model, report) =>
        {
            var trainable = report.AsTrainable<Tensor, Tensor>();
            trainable.parameters().Where(p => p.requires_grad).Should().HaveCount(8, "the model's adapters reach the optimiser through the wrapper");
            return new Loop(trainable, trainable.call);
        });

    [Fact]
    public void The_wrapper_holds_the_model_once_as_its_child_model_and_train_and_eval_reach_it()
    {
        var model = new ForwardingEncoder(sealedBlocks: true);
        var trainable = LowRankInjector.Inject(model, Config()).AsTrainable<Tensor, Tensor>();
        trainable.named_children().Select(c => c.name).Should().Equal("model");
        trainable.state_dict().Keys.Should().BeEquivalentTo(model.state_dict().Keys.Select(k => "model." + k));
        trainable.eval();
        model.training.Should().BeFalse();
        trainable.train();
        model.training.Should().BeTrue();
    }

    [Fact]
    public void The_wrapper_passes_every_argument_of_a_two_input_root()
    {
        torch.manual_seed(9);
        using var mask = torch.randint(0, 2, [4, 5]).to_type(ScalarType.Float32);
        TrainsAsTheReplacementPath(sealedFields => new MaskedEncoder(sealedFields), (m, x) => m.call(x, mask), 8, (model, report) =>
        {
            var trainable = report.AsTrainable<Tensor, Tensor, Tensor>();
            FluentActions.Invoking(() => report.AsTrainable<Tensor, Tensor>()).Should().Throw<AdapterException>()
                .WithMessage("*MaskedEncoder*does not implement IModule<Tensor, Tensor>*AsTrainable<Tensor, Tensor, Tensor>()*");
            return new Loop(trainable, x => trainable.call(x, mask));
        });
    }

    [Fact]
    public void A_hookable_root_invoked_with_forward_is_refreshed_by_the_blocks_it_calls()
        => TrainsAsTheReplacementPath(sealedFields => new BlocksByCall(sealedFields), (m, x) => m.call(x), 8,
            (model, _) => new Loop(model, model.forward));

    [Fact]
    public void Nested_hooks_rebuild_each_layer_once_per_forward_not_once_per_hook()
    {
        // The root's hook rebuilds every layer on each call; the blocks' hooks, which fire next, find nothing to rebuild.
        var model = new BlocksByCall(sealedBlocks: true);
        LowRankInjector.Inject(model, Config());
        var layers = model.modules().OfType<LRCMT.LowRank.Substitution.SubstitutedLinear>().ToList();
        var before = layers.Select(l => l.Rebuilds).ToList();
        using var x = randn(2, 5, 8);
        using var y = randn(2, 8);

        Train(model, model.call, x, y, steps: 3);

        layers.Select((l, i) => l.Rebuilds - before[i]).Should().OnlyContain(n => n == 3 + 2, "one rebuild per call, plus train() before and eval() after the loop");
    }

    [Fact]
    public void After_a_refused_stale_backward_the_next_hooked_call_raises_the_typed_error_before_its_forward()
    {
        torch.manual_seed(4);
        var model = new AttentionStack(sealedFields: true, layers: 1);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query"] });
        using var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 0.05);
        using var x = randn(2, 3, 8);
        using var y = randn(2, 3);
        nn.functional.mse_loss(model.forward(x), y).backward();
        optimizer.step();
        optimizer.zero_grad();

        // AttentionStack invokes its layers, and they their projections, with .forward(): nothing runs a hook, so the
        // first signal is libtorch's refusal of the stale gradient ...
        var stale = nn.functional.mse_loss(model.forward(x), y);
        FluentActions.Invoking(() => stale.backward()).Should().Throw<Exception>().WithMessage("*invalid gradient*");
        // ... and the next library call — here the model's own hooked .call — names the layer and the fix.
        FluentActions.Invoking(() => model.call(x)).Should().Throw<StaleAdapterWeightsException>()
            .Where(e => e.LayerPaths.SequenceEqual(new[] { "layer.0.query" }) && e.Message.Contains("RefreshAdapters") && e.Message.Contains("AsTrainable"));
        using (no_grad()) model.call(x).isfinite().all().item<bool>().Should().BeTrue("reported once; the weights are fresh again");
    }

    [Fact]
    public void NaN_adapters_are_reported_as_non_finite_not_as_stale()
    {
        torch.manual_seed(4);
        var model = new AttentionStack(sealedFields: true, layers: 1);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query"] });
        using var x = randn(2, 3, 8);
        using var y = randn(2, 3);
        var loraA = model.named_parameters().Single(p => p.name == "layer.0.query.lora_A.default.weight").parameter;
        using Scalar nan = double.NaN, half = 0.5, infinity = double.PositiveInfinity; // held: a Scalar made inline may be finalised while libtorch reads it
        using (no_grad()) loraA.fill_(nan); // what a diverging optimiser step leaves behind

        // Invoked through its hook: the NaN weights are used, the backward goes through, and the next call says why.
        nn.functional.mse_loss(model.call(x), y).backward();
        FluentActions.Invoking(() => model.call(x)).Should().Throw<NonFiniteAdapterWeightsException>()
            .Where(e => e.LayerPaths.SequenceEqual(new[] { "layer.0.query" }) && e.Message.Contains("not finite"));

        // A stale forward with NaN weights: the backward is refused, and the error is still non-finite, not stale.
        using (no_grad()) loraA.fill_(half);
        LowRankInjector.RefreshAdapters(model);
        using (no_grad()) loraA.fill_(infinity);
        var stale = nn.functional.mse_loss(model.forward(x), y);
        FluentActions.Invoking(() => stale.backward()).Should().Throw<Exception>();
        FluentActions.Invoking(() => LowRankInjector.RefreshAdapters(model)).Should().Throw<NonFiniteAdapterWeightsException>();
    }

    [Fact]
    public void MergeAndUnload_keeps_the_callers_type()
    {
        torch.manual_seed(6);
        var model = new ForwardingEncoder(sealedBlocks: true);
        LowRankInjector.Inject(model, Config());
        using var x = randn(2, 5, 8);
        using var expected = model.call(x);

        ForwardingEncoder merged = model.MergeAndUnload();

        merged.Should().BeSameAs(model);
        merged.modules().OfType<LoRALayer>().Should().BeEmpty();
        using (var actual = merged.call(x)) MaxDifference(actual, expected).Should().BeLessThan(1e-5);

        var layer = new LoRALinear(nn.Linear(4, 4));
        layer.AddAdapter("default", new LoRAConfig { Rank = 2 });
        FluentActions.Invoking(() => layer.MergeAndUnload()).Should().Throw<AdapterException>().WithMessage("*itself a LoRA layer*");
        ((nn.Module)layer).MergeAndUnload().Should().BeOfType<TorchSharp.Modules.Linear>();
    }
}
