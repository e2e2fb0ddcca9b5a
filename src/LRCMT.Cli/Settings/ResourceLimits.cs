using System.Globalization;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Upper bounds on every setting that decides how much memory or how many threads a run takes, in one place: the
/// flags (<c>SettingsOptions</c>) take their ranges from here and <see cref="RunSettingsFile.Validate"/> applies the
/// same bounds to a settings file, so <c>--lora-rank 100000</c> and <c>"Rank": 100000</c> are refused alike, before
/// any tensor is allocated. The library checks that values are usable; these bounds say what is sane on one machine.
/// </summary>
internal static class ResourceLimits
{
    /// <summary>Most libtorch CPU threads accepted: 4 × the cores (more only makes the threads wait for each other).</summary>
    internal static int MaxThreads => 4 * Environment.ProcessorCount;

    /// <summary>Largest batch accepted (a whole MOSEI split is 16,326 samples).</summary>
    internal const int MaxBatchSize = 65_536;

    /// <summary>Largest LoRA rank, also of a <c>RankPattern</c> entry (BERT-large's width is 1,024; a rank past the layer's width adds nothing).</summary>
    internal const int MaxLoraRank = 4_096;

    /// <summary>Most samples of a controlled benchmark split (the generator's own limit).</summary>
    internal const int MaxControlledSamples = 1_000_000;

    /// <summary>Widest cross-modal model (BERT's hidden size is bounded by 2¹⁶ the same way).</summary>
    internal const int MaxFusionWidth = 65_536;

    /// <summary>Most attention heads, cross-modal layers or feed-forward multiple of the fusion (BERT configs stop at 1,024 layers and heads).</summary>
    internal const int MaxFusionCount = 1_024;

    /// <summary>Widest temporal kernel of a modality projection.</summary>
    internal const int MaxKernelSize = 1_023;

    /// <summary>One sentence per setting of <paramref name="settings"/> above its bound.</summary>
    internal static List<string> Problems(RunSettings settings)
    {
        var problems = new List<string>();
        void AtMost(string name, long value, long max, string? why = null)
        {
            if (value > max) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be at most {max}{why} (was {value})."));
        }

        AtMost("Threads", settings.Threads, MaxThreads, $" (4 × the {Environment.ProcessorCount} cores)");
        AtMost("Data.BatchSize", settings.Data.BatchSize, MaxBatchSize);
        var model = settings.Model;
        if (model.LoRA is { } lora)
        {
            AtMost("Model.LoRA.Rank", lora.Rank, MaxLoraRank);
            foreach (var (key, rank) in lora.RankPattern ?? []) AtMost($"Model.LoRA.RankPattern['{key}']", rank, MaxLoraRank);
        }
        if (model.Fusion is { } fusion)
        {
            AtMost("Model.Fusion.Width", fusion.Width, MaxFusionWidth);
            AtMost("Model.Fusion.Heads", fusion.Heads, MaxFusionCount);
            AtMost("Model.Fusion.Layers", fusion.Layers, MaxFusionCount);
            AtMost("Model.Fusion.FeedForwardMultiplier", fusion.FeedForwardMultiplier, MaxFusionCount);
        }
        if (model.Modalities is { } modalities)
        {
            AtMost("Model.Modalities.TextKernelSize", modalities.TextKernelSize, MaxKernelSize);
            AtMost("Model.Modalities.AcousticKernelSize", modalities.AcousticKernelSize, MaxKernelSize);
            AtMost("Model.Modalities.VisualKernelSize", modalities.VisualKernelSize, MaxKernelSize);
        }
        return problems;
    }
}
