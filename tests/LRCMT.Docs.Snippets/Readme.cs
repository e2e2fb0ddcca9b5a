// README.md, "What is inside".
using LRCMT.Configuration;
using LRCMT.LowRank;
using TorchSharp;

namespace LRCMT.Docs.Snippets;

internal static class Readme
{
    internal static void WhatIsInside(torch.nn.Module myModel)
    {
        // LRCMT on the all-MiniLM-L6-v2 encoder the tool ships, offline: the main job above extracts it to
        // ~/.local/share/lrcmt/minilm-<version>/ (%LOCALAPPDATA%\lrcmt on Windows; $LRCMT_CACHE if set). A local Hugging Face
        // BERT folder works the same way: .WithPretrainedEncoder("models/bert-base-uncased") (config.json, vocab.txt,
        // model.safetensors; get one with huggingface-cli download google-bert/bert-base-uncased --local-dir models/bert-base-uncased).
        // The defaults are the best measured configuration (LoRA r=8 on query/value, fusion width 32, 4 heads, 1 layer, the
        // relative-time bias); LrcmtBuilder.FromOptions(LrcmtPresets.Paper) starts from the paper's instead.
        string cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "lrcmt");
        string miniLm = Directory.GetDirectories(cache, "minilm-*").First();
        using var model = new LrcmtBuilder()
            .WithOnnxEncoder(Path.Combine(miniLm, "model.onnx"))
            .WithLoRA(lora => lora with { Rank = 16, Alpha = 32 })
            .WithModalities(acousticFeatures: 5, visualFeatures: 20)
            .Build();
        Console.WriteLine(model.GetParameterReport());   // trainable params: … || all params: … || trainable%: …

        // Or wrap any loaded TorchSharp transformer with LoRA, without touching its source (sealed `Linear` fields called
        // with .forward() included; docs/lora.md lists which declaration takes which path):
        var report = LowRankInjector.Inject(myModel, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        var adapted = report.Model;   // myModel itself, or its managed twin when myModel is TorchSharp's native nn.TransformerEncoder
                                      // (whose projections are named "in_proj.q", "in_proj.v", "out_proj", "linear1", "linear2")
    }
}
