// src/LRCMT.Lib/PACKAGE.md (the README on the package's nuget.org page)
using LRCMT.Configuration;

namespace LRCMT.Docs.Snippets;

internal static class PackageReadme
{
    internal static void Build()
    {
        // LRCMT on a local Hugging Face BERT folder (config.json, vocab.txt, model.safetensors), LoRA r=8, CMU-MOSI feature sizes.
        using var model = new LrcmtBuilder()
            .WithPretrainedEncoder("models/bert-base-uncased")
            .WithLoRA(lora => lora with { Rank = 8, Alpha = 16 })
            .WithModalities(acousticFeatures: 5, visualFeatures: 20)
            .Build();
        Console.WriteLine(model.GetParameterReport());
    }
}
