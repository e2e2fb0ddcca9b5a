using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Export;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using LRCMT.Tests.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Export;

/// <summary>BERT and RoBERTa exported alone: ONNX Runtime against TorchSharp, LoRA folded, and the file re-imported.</summary>
public sealed class TextEncoderExportTests : IDisposable
{
    private const double Bound = 1e-4;
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-export-").FullName;

    [Fact]
    public void Tiny_bert_matches_onnx_runtime_on_padded_rows()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        CompareWithOnnxRuntime(model, 120, "tiny-bert.onnx", expectPooler: true);
    }

    [Fact]
    public void Tiny_bert_with_unmerged_lora_adapters_matches_onnx_runtime()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        manual_seed(3);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = ["query", "key", "value", "dense"] });
        model.eval();
        CompareWithOnnxRuntime(model, 120, "tiny-lora.onnx", expectPooler: true);
    }

    [Fact]
    public void Tiny_roberta_matches_onnx_runtime_with_its_position_numbering()
    {
        using var model = RobertaModel.FromPretrained(Fixtures.File("roberta"));
        CompareWithOnnxRuntime(model, model.Config.VocabSize, "tiny-roberta.onnx", expectPooler: true, padId: model.Config.PadTokenId);
    }

    [Fact]
    public void Packaged_minilm_matches_onnx_runtime_on_one_small_batch()
    {
        using var model = OnnxBertImporter.Load(new MemoryStream(MiniLMResources.ReadModel()), MiniLMResources.ModelName);
        CompareWithOnnxRuntime(model, model.Config.VocabSize, "minilm.onnx", expectPooler: true, rows: 2, length: 12);
    }

    [Fact]
    public void An_exported_bert_imports_back_with_the_same_config_and_weights()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        var path = Path.Combine(_folder, "round-trip.onnx");
        OnnxExporter.Export(model, path);

        using var imported = OnnxBertImporter.Load(path);

        imported.Config.Should().BeEquivalentTo(model.Config with { HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.1 });
        var original = model.state_dict();
        foreach (var (key, value) in imported.state_dict()) ExportTestModels.MaxAbsDifference(value, original[key]).Should().Be(0, key);
    }

    [Fact]
    public void A_text_encoder_the_exporter_does_not_know_is_refused_naming_its_type()
    {
        using var encoder = new TableEncoder();

        var act = () => OnnxExporter.Export(encoder, Path.Combine(_folder, "custom.onnx"));

        act.Should().Throw<UnsupportedModuleException>().Which.ModuleType.Should().Be(nameof(TableEncoder));
        File.Exists(Path.Combine(_folder, "custom.onnx")).Should().BeFalse();
    }

    [Fact]
    public void A_replaced_projection_is_refused_naming_its_path()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var parent = modules["encoder.layer.1.attention.self"];
        ModuleReplacer.Replace(parent, "value", modules["encoder.layer.1.attention.self.value"], new Scaled(), "encoder.layer.1.attention.self.value");

        var act = () => OnnxExporter.Export(model, Path.Combine(_folder, "replaced.onnx"));

        var error = act.Should().Throw<UnsupportedModuleException>().Which;
        error.ModulePath.Should().Be("encoder.layer.1.attention.self.value");
        error.ModuleType.Should().Be(nameof(Scaled));
    }

    private void CompareWithOnnxRuntime(TextEncoder model, long vocabulary, string file, bool expectPooler, long padId = 0, int rows = 3, int length = 10)
    {
        var path = Path.Combine(_folder, file);
        var result = OnnxExporter.Export(model, path);
        manual_seed(11);
        var ids = randint(padId + 1, vocabulary, [rows, length], dtype: ScalarType.Int64);
        var mask = ExportTestModels.Mask(Enumerable.Range(0, rows).Select(r => length - 3 * r).ToArray(), length).to(ScalarType.Int64);
        using Scalar pad = padId, one = 1; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        ids = (ids * mask).add(pad * mask.negative().add(one, RootedScalars.One), RootedScalars.One); // ids·mask + padId·(1 − mask)
        var types = zeros_like(ids);

        using var runner = new OnnxRuntimeRunner(path);
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types });
        using var _ = no_grad();
        var expected = model.call(ids, mask, types);

        var hiddenError = ExportTestModels.MaxAbsDifference(outputs["last_hidden_state"], expected.LastHiddenState);
        TestContext.Current.TestOutputHelper?.WriteLine($"{file}: max |h - h_ort| = {hiddenError:E2}");
        hiddenError.Should().BeLessThan(Bound);
        result.Outputs.Select(o => o.Name).Should().Equal(expectPooler ? ["last_hidden_state", "pooler_output"] : ["last_hidden_state"]);
        if (expectPooler) ExportTestModels.MaxAbsDifference(outputs["pooler_output"], expected.PooledOutput!).Should().BeLessThan(Bound);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed class TableEncoder : TextEncoder
    {
        private readonly TorchSharp.Modules.Embedding table = nn.Embedding(10, 4);

        public TableEncoder() : base(nameof(TableEncoder)) => RegisterComponents();

        public override int HiddenSize => 4;

        public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds) => new(table.call(inputIds), null);
    }

    private sealed class Scaled : nn.Module<Tensor, Tensor>
    {
        public Scaled() : base(nameof(Scaled)) { }

        public override Tensor forward(Tensor input) => input * Two;

        private static readonly Scalar Two = 2;
    }
}
