using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Formats.Safetensors;
using LRCMT.LowRank;
using LRCMT.Quantization;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Quantization;

/// <summary>
/// An int8 base (tiny-bert) with float32 LoRA adapters against the same model in float32. Tolerance: each weight is
/// off by at most max|row|/254 (0.4 % of its row's largest weight); through tiny-bert's 2 layers the measured relative
/// output error is ~0.5–1 % and the adapters' gradient error ~1–3 %; the tests allow 5 % and 10 %. A wrong scale (per
/// tensor instead of per row, or a transposed one) or a lost adapter path fails by far more.
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
        model.state_dict()["encoder.layer.0.attention.self.query.weight"].dtype.Should().Be(ScalarType.Int8);
        model.state_dict()["encoder.layer.0.attention.self.query.weight_scale"].dtype.Should().Be(ScalarType.Float32);
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

        RelativeError(results[1].Output, results[0].Output).Should().BeLessThan(0.05);
        results[1].Grads.Keys.Should().BeEquivalentTo(results[0].Grads.Keys, "the same adapters train, and nothing else");
        foreach (var (name, grad) in results[0].Grads)
            RelativeError(results[1].Grads[name], grad).Should().BeLessThan(0.1, name);
        quantized.named_parameters().Where(p => !p.parameter.requires_grad).Should().OnlyContain(p => ReferenceEquals(p.parameter.grad, null));
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
            model.call(ids, mask, null).LastHiddenState.pow(2).mean().backward();
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
            using (no_grad())
                foreach (var p in trained.parameters().Where(p => p.requires_grad)) p.add_(0.01); // "trained" adapters
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
