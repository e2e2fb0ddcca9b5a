// Runs an LRCMT model exported with `lrcmt export <run>` (or OnnxExporter.Export) through ONNX Runtime, without
// TorchSharp or libtorch: tokenize each sentence with the tokenizer saved beside the model, pad the batch, predict.
//
//   dotnet run --project samples/OnnxInference -- <run>/model.onnx ["a sentence" ...] [--show-native-libraries]
//
// Acoustic and visual features come from your own extractors (COVAREP, Facet, OpenFace...) with the widths the model
// was trained on; this sample makes up a few frames of the right width so that it runs anywhere.
using LRCMT.Errors;
using LRCMT.Onnx;
using LRCMT.TextEncoders;

var arguments = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
if (arguments.Count == 0)
{
    Console.Error.WriteLine("usage: OnnxInference <model.onnx> [sentence ...] [--show-native-libraries]");
    return 2;
}
string modelPath = Path.GetFullPath(arguments[0]);
string[] sentences = arguments.Count > 1 ? [.. arguments.Skip(1)] : ["What a wonderful, moving film.", "I did not like it at all."];

// A wrong path or a damaged export is the user's to fix: say what is wrong (the messages name the file), no stack trace.
LrcmtOnnxModel model;
try
{
    model = LrcmtOnnxModel.Load(modelPath, threads: 1);
}
catch (FileNotFoundException e)
{
    Console.Error.WriteLine($"{e.Message} Make one with: lrcmt export <run>");
    return 1;
}
catch (LrcmtException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
using var _ = model;
var tokenizerInfo = model.Manifest.Tokenizer;
if (tokenizerInfo is null)
{
    Console.Error.WriteLine($"{OnnxModelManifest.PathFor(modelPath)}: the manifest names no tokenizer.");
    return 1;
}
var tokenizer = BertTextTokenizer.FromFolder(Path.Combine(Path.GetDirectoryName(modelPath)!, tokenizerInfo.Folder));

var samples = sentences.Select((sentence, i) => new OnnxSample(
    tokenizer.Encode(sentence, tokenizerInfo.MaxTokens),
    Frames(count: 6 + i, model.AcousticFeatures),
    Frames(count: 4 + 2 * i, model.VisualFeatures))).ToList();
var batch = OnnxBatch.Pad(samples, tokenizerInfo.PadTokenId, model.AcousticFeatures, model.VisualFeatures);
var prediction = model.Predict(batch);

for (var i = 0; i < sentences.Length; i++)
{
    var result = model.Classes == 0
        ? $"sentiment {prediction.Values[i]:F4}"
        : $"class {prediction.PredictedClass(i)} of {model.Classes}";
    Console.WriteLine($"{result}  \"{sentences[i]}\"");
}

// Which native libraries this process loaded (Linux): the check that serving needed no libtorch.
if (args.Contains("--show-native-libraries") && File.Exists("/proc/self/maps"))
{
    foreach (var library in File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                 .Where(f => f.Length >= 6 && f[5].EndsWith(".so", StringComparison.Ordinal) || f.Length >= 6 && f[5].Contains(".so.", StringComparison.Ordinal))
                 .Select(f => Path.GetFileName(f[5])).Distinct().Order())
        Console.WriteLine($"native: {library}");
}
return 0;

// A smooth made-up signal per frame; real features come from the extractors the training data used.
static IReadOnlyList<float[]> Frames(int count, int features) =>
    features == 0 ? [] : [.. Enumerable.Range(0, count).Select(t => Enumerable.Range(0, features).Select(f => MathF.Sin(0.3f * t + f)).ToArray())];
