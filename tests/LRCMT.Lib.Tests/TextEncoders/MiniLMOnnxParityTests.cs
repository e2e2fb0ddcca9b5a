using FluentAssertions;
using LRCMT.TextEncoders;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>Loads the 90 MB model, our import and ONNX Runtime's session, once for the class.</summary>
public sealed class MiniLMFixture : IDisposable
{
    public MiniLMFixture()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ModelBytes = MiniLMResources.ReadModel();
        Model = OnnxBertImporter.Load(new MemoryStream(ModelBytes), MiniLMResources.ModelName);
        using var vocabulary = MiniLMResources.OpenVocabulary();
        Tokenizer = BertTextTokenizer.FromVocabStream(vocabulary, lowerCase: true);
        var importTime = clock.Elapsed;
        Session = new InferenceSession(ModelBytes);
        LoadTimes = $"read + import {importTime.TotalSeconds:F1} s, ONNX Runtime session {(clock.Elapsed - importTime).TotalSeconds:F1} s";
    }

    public string LoadTimes { get; }

    public byte[] ModelBytes { get; }

    public BertModel Model { get; }

    public BertTextTokenizer Tokenizer { get; }

    public InferenceSession Session { get; }

    public void Dispose()
    {
        Model.Dispose();
        Session.Dispose();
    }
}

/// <summary>Our encoder with weights imported from the ONNX file against ONNX Runtime running that same file.</summary>
public sealed class MiniLMOnnxParityTests(MiniLMFixture miniLM) : IClassFixture<MiniLMFixture>
{
    private static readonly string[] Sentences =
    [
        "The movie was great!",
        "I really hated how boring and predictable this film turned out to be, despite the strong cast.",
        "Okay.",
        "A quiet, moving story about a family, told with warmth and a little humour.",
    ];

    [Fact]
    public void Inferred_config_is_all_MiniLM_L6_v2()
    {
        // The model card's numbers: 6 layers, 384 wide, 12 heads, 1536 FFN, 30522 words, 512 positions, exact GELU.
        miniLM.Model.Config.Should().BeEquivalentTo(new
        {
            NumHiddenLayers = 6, HiddenSize = 384, NumAttentionHeads = 12, IntermediateSize = 1536, VocabSize = 30522,
            MaxPositionEmbeddings = 512, TypeVocabSize = 2, HiddenAct = "gelu", LayerNormEps = 1e-12, AddPoolingLayer = true,
        });
        miniLM.Tokenizer.VocabularySize.Should().Be(30522);
        TestContext.Current.TestOutputHelper?.WriteLine(miniLM.LoadTimes);
    }

    [Fact]
    public void Last_hidden_state_and_mean_pooled_embeddings_match_onnx_runtime()
    {
        using var batch = miniLM.Tokenizer.EncodeBatch(Sentences, maxLength: 128);
        var (expectedHidden, expectedPooler) = RunOnnxRuntime(batch);

        using var _ = no_grad();
        var output = miniLM.Model.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        using var ours = output.LastHiddenState;
        using var pooler = output.PooledOutput!;

        batch.AttentionMask.sum(1).data<long>().ToArray().Distinct().Should().HaveCount(Sentences.Length, "the sentences must differ in length");
        var hiddenError = TinyBertParityTests.MaxAbsDifference(ours, expectedHidden);
        var poolerError = TinyBertParityTests.MaxAbsDifference(pooler, expectedPooler);
        using var cosine = nn.functional.cosine_similarity(MeanPool(ours, batch.AttentionMask), MeanPool(expectedHidden, batch.AttentionMask), dim: 1);
        var minCosine = cosine.min().item<float>();
        TestContext.Current.TestOutputHelper?.WriteLine($"max |h - h_ort| = {hiddenError:E2}, max |pooler - pooler_ort| = {poolerError:E2}, min cosine = {minCosine:F7}");

        hiddenError.Should().BeLessThan(1e-4);
        poolerError.Should().BeLessThan(1e-4);
        minCosine.Should().BeGreaterThanOrEqualTo(0.9999f);
    }

    [Fact]
    public void Similar_sentences_embed_closer_than_unrelated_ones()
    {
        using var batch = miniLM.Tokenizer.EncodeBatch(["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply today."], 64);
        using var _ = no_grad();
        using var hidden = miniLM.Model.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).LastHiddenState;
        using var embeddings = nn.functional.normalize(MeanPool(hidden, batch.AttentionMask), dim: 1);
        using var similarity = embeddings.matmul(embeddings.t());

        similarity[0, 1].item<float>().Should().BeGreaterThan(similarity[0, 2].item<float>() + 0.2f);
    }

    private (Tensor LastHidden, Tensor Pooler) RunOnnxRuntime(TokenizedBatch batch)
    {
        var shape = batch.InputIds.shape;
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds.data<long>().ToArray(), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask.data<long>().ToArray(), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds.data<long>().ToArray(), shape);
        using var options = new RunOptions();
        var outputNames = miniLM.Session.OutputNames;
        using var results = miniLM.Session.Run(options, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], outputNames);

        Tensor ToTorch(OrtValue value) => tensor(value.GetTensorDataAsSpan<float>().ToArray(), value.GetTensorTypeAndShape().Shape);
        var last = results[outputNames.ToList().IndexOf("last_hidden_state")];
        var pooler = results.Single(r => r.GetTensorTypeAndShape().Shape.Length == 2);
        return (ToTorch(last), ToTorch(pooler));
    }

    private static Tensor MeanPool(Tensor hidden, Tensor mask)
    {
        using var weights = mask.to_type(hidden.dtype).unsqueeze(-1);
        return (hidden * weights).sum(1) / weights.sum(1);
    }
}
