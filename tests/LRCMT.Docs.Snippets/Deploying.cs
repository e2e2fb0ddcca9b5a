// docs/deploying.md
using LRCMT.Export;
using LRCMT.Models;
using LRCMT.Onnx;
using LRCMT.TextEncoders;

namespace LRCMT.Docs.Snippets;

internal static class Deploying
{
    internal static void FromCode()
    {
        using var model = LRCMTModel.Load("runs/mosi/model");                  // or any model built with LrcmtBuilder
        var result = OnnxExporter.Export(model, "deploy/model.onnx");
        foreach (var input in result.Inputs) Console.WriteLine($"{input.Name} {input.ElementType} [{string.Join(", ", input.Shape)}]");

        using var bert = BertModel.FromPretrained("bert-base-uncased");          // a text encoder alone, LoRA or not
        OnnxExporter.Export(bert, "deploy/bert.onnx", new OnnxExportOptions(ExternalWeights: true));
    }

    internal static void Serving(IReadOnlyList<float[]> acousticFrames, IReadOnlyList<float[]> visualFrames)
    {
        using var model = LrcmtOnnxModel.Load("deploy/model.onnx", threads: 1);
        var tokenizerInfo = model.Manifest.Tokenizer!;
        var tokenizer = BertTextTokenizer.FromFolder(Path.Combine("deploy", tokenizerInfo.Folder));
        var sample = new OnnxSample(tokenizer.Encode("What a wonderful film.", tokenizerInfo.MaxTokens), acousticFrames, visualFrames);
        var batch = OnnxBatch.Pad([sample], tokenizerInfo.PadTokenId, model.AcousticFeatures, model.VisualFeatures);
        float score = model.Predict(batch).Values[0];
    }
}
