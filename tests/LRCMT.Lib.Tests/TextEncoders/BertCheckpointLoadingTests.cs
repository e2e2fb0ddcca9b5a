using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using LRCMT.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.TextEncoders;

/// <summary>Hugging Face folder variants built from the tiny-bert fixture: task-model prefixes, heads, damage.</summary>
public sealed class BertCheckpointLoadingTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("lrcmt-bert-").FullName;
    private readonly Dictionary<string, Tensor> weights = SafetensorsFile.Load(Path.Combine(Fixtures.TinyBertFolder, "model.safetensors"));

    public BertCheckpointLoadingTests() =>
        File.Copy(Path.Combine(Fixtures.TinyBertFolder, "config.json"), Path.Combine(folder, "config.json"));

    private string WeightsPath => Path.Combine(folder, "model.safetensors");

    [Fact]
    public void A_task_model_checkpoint_loads_its_bert_prefixed_encoder_and_reports_the_heads()
    {
        using var headBias = zeros(120);
        using var classifier = zeros(3, 64);
        var saved = weights.Select(kv => KeyValuePair.Create("bert." + kv.Key, kv.Value))
            .Append(KeyValuePair.Create("cls.predictions.bias", headBias))
            .Append(KeyValuePair.Create("classifier.weight", classifier));
        SafetensorsFile.Save(WeightsPath, saved);

        var (model, skipped) = BertCheckpointLoader.Load(folder);
        using var _ = model;

        skipped.Should().Equal("classifier.weight", "cls.predictions.bias");
        using var loaded = model.state_dict()["encoder.layer.1.attention.self.query.weight"];
        TinyBertParityTests.MaxAbsDifference(loaded, weights["encoder.layer.1.attention.self.query.weight"]).Should().Be(0);
    }

    [Fact]
    public void A_checkpoint_without_pooler_weights_gives_a_model_without_pooled_output()
    {
        SafetensorsFile.Save(WeightsPath, weights.Where(kv => !kv.Key.StartsWith("pooler.")));

        using var model = BertModel.FromPretrained(folder);
        using var ids = ones([1, 3], ScalarType.Int64);

        model.call(ids, ones_like(ids), null).PooledOutput.Should().BeNull();
    }

    [Fact]
    public void Missing_and_mis_shaped_weights_are_all_listed_before_anything_is_copied()
    {
        using var wrong = zeros(64, 32);
        var saved = weights.Where(kv => kv.Key != "encoder.layer.0.output.dense.bias")
            .Select(kv => kv.Key == "encoder.layer.1.intermediate.dense.weight" ? KeyValuePair.Create(kv.Key, wrong) : kv);
        SafetensorsFile.Save(WeightsPath, saved);

        var act = () => BertModel.FromPretrained(folder);

        var error = act.Should().Throw<CheckpointMismatchException>().Which;
        error.MissingKeys.Should().Equal("encoder.layer.0.output.dense.bias");
        error.ShapeMismatches.Should().ContainSingle().Which.Should().Contain("encoder.layer.1.intermediate.dense.weight").And.Contain("[64, 32]");
        error.CheckpointSource.Should().Be(WeightsPath);
    }

    [Fact]
    public void A_truncated_safetensors_file_is_a_corrupt_file_error_naming_it()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Fixtures.TinyBertFolder, "model.safetensors"));
        File.WriteAllBytes(WeightsPath, bytes[..(bytes.Length / 2)]);

        var act = () => BertModel.FromPretrained(folder);

        act.Should().Throw<CorruptFileException>().Which.Path.Should().Be(WeightsPath);
    }

    [Fact]
    public void A_broken_pickle_only_folder_names_the_file()
    {
        File.WriteAllBytes(Path.Combine(folder, "pytorch_model.bin"), [0x50, 0x4b]);

        var act = () => BertModel.FromPretrained(folder);

        act.Should().Throw<CorruptFileException>().Which.Path.Should().EndWith("pytorch_model.bin");
    }

    [Fact]
    public void A_folder_without_weights_names_the_expected_files()
    {
        var act = () => BertModel.FromPretrained(folder);

        act.Should().Throw<FileNotFoundException>().WithMessage("*model.safetensors*pytorch_model.bin*");
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Values) tensor.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
