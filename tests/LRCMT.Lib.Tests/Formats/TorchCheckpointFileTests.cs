using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Formats.Pickle;

namespace LRCMT.Tests.Formats;

/// <summary>Fixtures written by Fixtures/torch/make_fixtures.py with PyTorch 1.13's torch.save.</summary>
public sealed class TorchCheckpointFileTests
{
    private static string Torch(string name) => Fixtures.File("torch", name);

    [Theory]
    [InlineData("small.bin")]
    [InlineData("small-legacy.bin")]
    public void A_state_dict_saved_by_torch_reads_back_with_the_values_torch_wrote(string file)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Torch("small.json")))!.AsObject();
        var tensors = TorchCheckpointFile.Load(Torch(file));
        try
        {
            tensors.Keys.Should().BeEquivalentTo(expected.Select(kv => kv.Key));
            foreach (var (name, spec) in expected)
            {
                var tensor = tensors[name];
                tensor.shape.Should().Equal(spec!["shape"]!.AsArray().Select(d => d!.GetValue<long>()), name);
                tensor.dtype.ToString().ToLowerInvariant().Should().Be(spec["dtype"]!.GetValue<string>() switch
                {
                    "float32" => "float32", "float64" => "float64", "float16" => "float16", "int64" => "int64", "bool" => "bool", var d => d,
                }, name);
                var values = spec["values"]!.AsArray();
                var actual = tensor.dtype == ScalarType.Bool
                    ? tensor.flatten().data<bool>().Select(b => b ? 1.0 : 0.0).ToArray()
                    : tensor.to_type(ScalarType.Float64).flatten().data<double>().ToArray();
                var wanted = values.Select(v => v!.GetValueKind() == System.Text.Json.JsonValueKind.True ? 1.0
                    : v.GetValueKind() == System.Text.Json.JsonValueKind.False ? 0.0 : v.GetValue<double>()).ToArray();
                actual.Should().Equal(wanted, name);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    [Fact]
    public void A_pickle_that_calls_os_system_is_refused_before_anything_runs()
    {
        const string marker = "/tmp/lrcmt-torch-pickle-marker";
        if (File.Exists(marker)) File.Delete(marker);

        var act = () => TorchCheckpointFile.Load(Torch("malicious.bin"));

        act.Should().Throw<UnsafePickleException>().Which.Global.Should().Be("posix.system");
        File.Exists(marker).Should().BeFalse("nothing in the pickle may run");
    }

    [Fact]
    public void A_truncated_storage_entry_names_the_file_and_the_entry()
    {
        var act = () => TorchCheckpointFile.Load(Torch("truncated.bin"));

        var error = act.Should().Throw<CorruptFileException>().Which;
        error.Path.Should().EndWith("truncated.bin");
        error.Message.Should().Contain("data/0").And.Contain("needs 24");
    }

    [Fact]
    public void A_tensor_reaching_past_its_storage_is_refused_before_any_tensor_is_made()
    {
        var act = () => TorchCheckpointFile.Load(Torch("out-of-bounds.bin"));

        act.Should().Throw<CorruptFileException>().Which.Message.Should().Contain("'w'").And.Contain("element 9").And.Contain("holds 4");
    }

    [Fact]
    public void A_cut_off_legacy_checkpoint_is_reported_as_truncated()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lrcmt-legacy-{Guid.NewGuid():N}.bin");
        var bytes = File.ReadAllBytes(Torch("small-legacy.bin"));
        File.WriteAllBytes(path, bytes[..^10]);
        try
        {
            var act = () => TorchCheckpointFile.Load(path);
            act.Should().Throw<CorruptFileException>().Which.Message.Should().Contain("truncated");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_bert_folder_with_only_pytorch_model_bin_loads_the_same_weights_as_the_safetensors_folder()
    {
        using var fromBin = BertModel.FromPretrained(Fixtures.File("torch", "tiny-bert"));
        using var fromSafetensors = BertModel.FromPretrained(Fixtures.TinyBertFolder);

        var expected = fromSafetensors.state_dict();
        var actual = fromBin.state_dict();
        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        foreach (var (name, tensor) in expected)
            actual[name].allclose(tensor, rtol: 0, atol: 0).Should().BeTrue(name);
    }

    [Fact]
    public void An_adapter_folder_with_adapter_model_bin_loads_the_same_adapter_as_the_safetensors_one()
    {
        using var fromBin = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using var fromSafetensors = BertModel.FromPretrained(Fixtures.TinyBertFolder);

        var report = LRCMT.LowRank.PeftAdapterFile.Load(fromBin, Fixtures.File("torch", "tiny-lora-bin"));
        LRCMT.LowRank.PeftAdapterFile.Load(fromSafetensors, Fixtures.TinyLoraFolder);

        report.LoadedKeys.Should().HaveCount(8);
        var expected = fromSafetensors.state_dict();
        foreach (var (name, tensor) in fromBin.state_dict())
            tensor.allclose(expected[name], rtol: 0, atol: 0).Should().BeTrue(name);
    }
}
