using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Formats.Safetensors;
using LRCMT.LowRank;
using LRCMT.Quantization;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Quantization;

/// <summary>
/// An int8 base (tiny-bert) with float32 LoRA adapters against the same model in float32. The int8 base computes in
/// bfloat16 (its projections dequantised to it, embeddings and LayerNorm held in it). Each weight is off by at most
/// max|row|/254 (0.4 % of its row's largest weight), and bfloat16 rounds every activation to 8 significant bits.
/// Measured on 5 December 2026 (these inputs and seeds; the projections scale their output since the second date):
/// relative output error 0.57 % / 0.59 %, adapter gradient errors 1.4–3.1 % / 1.4–3.0 %, and over 20 LoRA steps the loss
/// of every step within 0.056 % / 0.052 % of the float32 run's while both fall by 18 %.
/// The bounds are those measurements with a margin (output 2 %, gradients 8 %, loss 0.3 % per step); a wrong scale (per
/// tensor instead of per row, or a transposed one), a lost adapter path or adapters that do not train fail by far more.
/// </summary>
public sealed class Int8BaseTests
{
    private static readonly LoRAConfig Adapter = new() { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] };

    private static (Tensor Ids, Tensor Mask) Batch()
    {
        manual_seed(9);
        var ids = randint(1, 120, [2, 9]);
        var mask = ones(2, 9, ScalarType.Int64);
        mask[1, TensorIndex.Slice(6)] = tensor(0L);
        return (ids, mask);
    }

    private static BertModel WithAdapter(BaseDType dtype)
    {
        var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, dtype);
        manual_seed(4); // the same adapter values for every dtype
        LowRankInjector.Inject(model, Adapter);
        model.eval();
        return model;
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        using var diff = (actual - expected).norm();
        using var scale = expected.norm();
        return diff.item<float>() / scale.item<float>();
    }

    [Fact]
    public void Loaded_in_int8_every_projection_is_quantized_and_the_base_is_frozen()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);

        model.modules().OfType<TorchSharp.Modules.Linear>().Should().BeEmpty();
        model.modules().OfType<QuantizedLinear>().Should().HaveCount(2 * 6 + 1, "q, k, v, attention output, intermediate, output per layer, and the pooler");
        model.parameters().Should().OnlyContain(p => !p.requires_grad);
        var state = model.state_dict();
        state["encoder.layer.0.attention.self.query.weight"].dtype.Should().Be(ScalarType.Int8);
        state["encoder.layer.0.attention.self.query.weight_scale"].dtype.Should().Be(ScalarType.Float32);
        // Everything else of the base is held in bfloat16, the type an int8 base computes in, like a bf16 base.
        state.Where(kv => !kv.Key.EndsWith(".weight_scale", StringComparison.Ordinal) && kv.Value.is_floating_point())
            .Should().NotBeEmpty().And.OnlyContain(kv => kv.Value.dtype == ScalarType.BFloat16);
        state["encoder.layer.0.attention.self.query.bias"].dtype.Should().Be(ScalarType.BFloat16);
        state["embeddings.word_embeddings.weight"].dtype.Should().Be(ScalarType.BFloat16);
        var (ids, mask) = Batch();
        using var output = model.call(ids, mask, null).LastHiddenState;
        output.dtype.Should().Be(ScalarType.BFloat16, "an int8 base computes in bfloat16");
    }

    [Fact]
    public void Converting_an_int8_base_with_to_keeps_its_codes_and_scales()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        model.to(ScalarType.Float16);

        foreach (var (key, value) in model.state_dict())
        {
            if (key.EndsWith(".weight_scale", StringComparison.Ordinal) || value.dtype == ScalarType.Int8)
            {
                value.dtype.Should().Be(before[key].dtype, key);
                value.eq(before[key]).all().item<bool>().Should().BeTrue(key);
            }
            else if (value.is_floating_point()) value.dtype.Should().Be(ScalarType.Float16, key);
        }
        var (ids, mask) = Batch();
        using var output = model.call(ids, mask, null).LastHiddenState;
        output.dtype.Should().Be(ScalarType.Float16, "the projections dequantise to the type they are converted to");
    }

    [Fact]
    public void Loading_in_int8_equals_quantizing_a_loaded_encoder_bit_for_bit()
    {
        using var direct = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);
        using var converted = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        BasePrecision.Apply(converted, BaseDType.Int8);

        TensorsShouldBeIdentical(direct, converted);
    }

    [Fact]
    public void Int8_with_lora_stays_close_to_fp32_forward_and_backward()
    {
        var (ids, mask) = Batch();
        using var reference = WithAdapter(BaseDType.Float32);
        using var quantized = WithAdapter(BaseDType.Int8);
        var results = new List<(Tensor Output, Dictionary<string, Tensor> Grads)>();
        foreach (var model in new[] { reference, quantized })
        {
            var output = model.call(ids, mask, null).LastHiddenState;
            (output * output.detach().sin()).sum().backward(); // a loss with a non-trivial gradient through the LayerNorms
            results.Add((output.detach(), model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone())));
        }

        results[1].Output.dtype.Should().Be(ScalarType.BFloat16);
        RelativeError(results[1].Output.to(ScalarType.Float32), results[0].Output).Should().BeLessThan(0.02);
        results[1].Grads.Keys.Should().BeEquivalentTo(results[0].Grads.Keys, "the same adapters train, and nothing else");
        foreach (var (name, grad) in results[0].Grads)
            RelativeError(results[1].Grads[name], grad).Should().BeLessThan(0.08, name);
        quantized.named_parameters().Where(p => !p.parameter.requires_grad).Should().OnlyContain(p => ReferenceEquals(p.parameter.grad, null));
    }

    [Fact]
    public void Twenty_lora_steps_on_an_int8_base_follow_the_fp32_loss()
    {
        var reference = LossTrajectory(BaseDType.Float32);
        var quantized = LossTrajectory(BaseDType.Int8);
        (reference[0] - reference[^1]).Should().BeGreaterThan(0.1 * reference[0], "the adapters learn (measured: an 18 % fall)");
        for (int step = 0; step < reference.Length; step++)
            (Math.Abs(quantized[step] - reference[step]) / reference[step]).Should().BeLessThan(0.003, $"step {step}: int8 {quantized[step]}, fp32 {reference[step]}");
    }

    // 20 LoRA steps (q+v r4, PEFT's default init: B = 0) with AdamW at lr 1e-2 towards a fixed random target, no dropout,
    // the same batch every step: the loss of each step, computed in float32.
    private static double[] LossTrajectory(BaseDType dtype)
    {
        var (ids, mask) = Batch();
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, dtype);
        manual_seed(4);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query", "value"] });
        manual_seed(12);
        using var target = randn(ids.shape[0], ids.shape[1], model.HiddenSize);
        model.eval(); // no dropout, so both runs see the same function
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new LRCMT.Training.LeanAdamW(trainable, lr: 1e-2);
        var losses = new double[20];
        for (int step = 0; step < losses.Length; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.call(ids, mask, null).LastHiddenState.to(ScalarType.Float32), target);
            loss.backward();
            optimizer.step();
            losses[step] = loss.item<float>();
        }
        return losses;
    }

    [Fact]
    public void Training_through_an_int8_base_writes_nothing_to_the_console()
    {
        // TorchSharp prints a warning whenever a tensor goes into an autograd context's data slots.
        var (ids, mask) = Batch();
        using var model = WithAdapter(BaseDType.Int8);
        model.train();
        var console = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            using var scope = NewDisposeScope();
            using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
            model.call(ids, mask, null).LastHiddenState.pow(two).mean().backward();
        }
        finally
        {
            Console.SetOut(console);
        }

        captured.ToString().Should().BeEmpty();
        model.parameters().Where(p => p.requires_grad).Should().OnlyContain(p => !ReferenceEquals(p.grad, null));
    }

    [Fact]
    public void Merging_into_an_int8_base_is_a_typed_error_and_changes_nothing()
    {
        using var model = WithAdapter(BaseDType.Int8);
        var (ids, mask) = Batch();
        using var before = model.call(ids, mask, null).LastHiddenState.detach();

        var act = () => MergedModel.MergeAll(model);

        act.Should().Throw<AdapterException>().WithMessage("*int8*");
        using var after = model.call(ids, mask, null).LastHiddenState.detach();
        after.eq(before).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Int8_is_refused_after_lora_was_injected_into_float_layers()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        LowRankInjector.Inject(model, Adapter);

        var act = () => BasePrecision.Apply(model, BaseDType.Int8);

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*before LoRA is injected*");
    }

    [Fact]
    public void An_int8_encoder_with_its_adapter_saves_and_loads_to_the_same_outputs()
    {
        var (ids, mask) = Batch();
        var folder = Path.Combine(Path.GetTempPath(), $"int8-lora-{Guid.NewGuid():N}");
        try
        {
            using var trained = WithAdapter(BaseDType.Int8);
            using Scalar shift = 0.01;
            using (no_grad())
                foreach (var p in trained.parameters().Where(p => p.requires_grad)) p.add_(shift, RootedScalars.One); // "trained" adapters
            using var expected = trained.call(ids, mask, null).LastHiddenState.detach();
            PeftAdapterFile.Save(trained, Path.Combine(folder, "adapter"));
            SafetensorsFile.Save(Path.Combine(folder, "base.safetensors"),
                trained.state_dict().Where(kv => !kv.Key.Contains(".lora_")).Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)));

            // The quantized base comes back from its own file (int8 codes and scales kept, strict dtypes), then the adapter.
            using var restored = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);
            using (no_grad())
                foreach (var p in restored.parameters()) p.zero_();
            var saved = SafetensorsFile.Load(Path.Combine(folder, "base.safetensors"));
            StateDictLoader.Load(restored, saved, "base.safetensors");
            LowRankInjector.Inject(restored, Adapter);
            PeftAdapterFile.Load(restored, Path.Combine(folder, "adapter"));
            restored.eval();

            using var actual = restored.call(ids, mask, null).LastHiddenState.detach();
            actual.eq(expected).all().item<bool>().Should().BeTrue();
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void An_int8_base_saved_with_float32_embeddings_and_biases_loads_with_floating_point_casts()
    {
        // What an int8 base's state dict held before int8 bases computed in bfloat16: the same codes and scales, the
        // embeddings, LayerNorms and biases in float32.
        using var fp32 = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        var projections = fp32.named_modules().Where(m => m.module is TorchSharp.Modules.Linear).Select(m => m.name + ".weight").ToHashSet();
        var earlier = new Dictionary<string, Tensor>();
        foreach (var (key, value) in fp32.state_dict())
        {
            if (!projections.Contains(key)) { earlier[key] = value; continue; }
            var (codes, scales) = Int8Weights.Quantize(value);
            earlier[key] = codes;
            earlier[key + "_scale"] = scales;
        }
        using var expected = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Int8);
        using (no_grad())
            foreach (var tensor in model.state_dict().Values) tensor.zero_(); // only the load can make them agree

        var strict = () => StateDictLoader.Load(model, earlier, "earlier-int8.safetensors");
        strict.Should().Throw<CheckpointMismatchException>().WithMessage("*expected dtype BFloat16 but got Float32*");
        StateDictLoader.Load(model, earlier, "earlier-int8.safetensors", StateDictLoadOptions.Strict with { CastFloatingPoint = true });

        TensorsShouldBeIdentical(model, expected);
    }

    internal static void TensorsShouldBeIdentical(nn.Module actual, nn.Module expected)
    {
        var a = actual.state_dict();
        var e = expected.state_dict();
        a.Keys.Should().BeEquivalentTo(e.Keys);
        foreach (var (key, value) in e)
        {
            a[key].dtype.Should().Be(value.dtype, key);
            a[key].eq(value).all().item<bool>().Should().BeTrue(key);
        }
    }
}
