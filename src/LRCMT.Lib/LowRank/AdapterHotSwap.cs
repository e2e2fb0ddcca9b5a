using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// PEFT's <c>hotswap_adapter</c>: copies another adapter's tensors into an adapter slot the model already carries, in
/// place — no module, parameter or record object is replaced, so a serving process keeps its model (and an optimizer
/// or compiled graph keeps its tensors). A file adapter of a smaller rank fills the first rows of A and columns of B
/// and the rest become zeros (B·A is unchanged by the padding); the slot then computes with the file's scaling
/// (α/r or α/√r of the file), recorded as the alpha that gives that scaling at the slot's rank.
/// </summary>
internal static class AdapterHotSwap
{
    private const string Prefix = "base_model.model.";

    /// <summary>One slot tensor and the file tensor that goes into it.</summary>
    private sealed record Copy(PeftKeyLayout.Entry Entry, string Suffix, Tensor Slot, Tensor Source);

    /// <summary>Checks everything, then copies; nothing changes when a check fails.</summary>
    /// <exception cref="AdapterException">The slot is missing, merged, or was initialised with PiSSA/OLoRA (its base weight is a residual), or a file rank is larger than the slot's.</exception>
    /// <exception cref="AdapterConfigMismatchException">The file targets other modules or differs in dropout, rsLoRA, DoRA, bias or modules to save.</exception>
    /// <exception cref="CheckpointMismatchException">The file's tensors are not exactly the slot's A/B (and magnitude) tensors, or their shapes do not fit.</exception>
    public static void Swap(nn.Module model, LoRAConfig file, string configPath, IReadOnlyDictionary<string, Tensor> tensors, string weightsPath, string adapterName)
    {
        var record = AdapterRecord.Of(model, adapterName)
            ?? throw new AdapterException(null, $"no module of the model carries adapter '{adapterName}'; hot-swap replaces the weights of an injected adapter (use PeftAdapterFile.Load to add one).");
        if (record.InitChangesBaseWeight)
            throw new AdapterException(null, $"adapter '{adapterName}' was initialised with {record.Init}, which changed the base weights; another adapter's weights would be applied to that residual, not to the original weights.");
        AdapterRecordCheck.ThrowIfDifferent(record, file, model, adapterName, configPath, AdapterRecordCheck.HotSwapFields);

        var entries = PeftKeyLayout.Of(model, adapterName);
        if (entries.FirstOrDefault(e => e.Layer.MergedAdapter == adapterName) is { } merged)
            throw new AdapterException(merged.ModelPath, $"adapter '{adapterName}' is merged into it; unmerge before hot-swapping.");

        var copies = new List<Copy>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var byKey = tensors.ToDictionary(kv => kv.Key.StartsWith(Prefix, StringComparison.Ordinal) ? kv.Key[Prefix.Length..] : kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var missing = new List<string>();
        var shapes = new List<string>();
        var tooLarge = new List<string>();
        foreach (var entry in entries)
            foreach (var (suffix, slot) in entry.Layer.AdapterTensors(adapterName))
            {
                var key = $"{entry.FilePath}.{suffix}";
                expected.Add(key);
                if (!byKey.TryGetValue(key, out var source)) { missing.Add(key); continue; }
                if (source.dim() != slot.dim()) { shapes.Add($"{key}: expected [{string.Join(", ", slot.shape)}] but got [{string.Join(", ", source.shape)}]"); continue; }
                // A [r, in] may have fewer rows, B [out, r] fewer columns; every other size must match.
                int rankDim = suffix.StartsWith("lora_A", StringComparison.Ordinal) ? 0 : suffix.StartsWith("lora_B", StringComparison.Ordinal) ? 1 : -1;
                bool fits = true;
                for (int d = 0; d < slot.dim(); d++)
                    if (d == rankDim ? source.shape[d] < 1 : source.shape[d] != slot.shape[d]) fits = false;
                if (!fits) shapes.Add($"{key}: expected [{string.Join(", ", slot.shape)}] (rank at most {entry.Layer.RankOf(adapterName)}) but got [{string.Join(", ", source.shape)}]");
                else if (rankDim >= 0 && source.shape[rankDim] > slot.shape[rankDim])
                    tooLarge.Add($"{entry.ModelPath}: rank {source.shape[rankDim]} in the file, {slot.shape[rankDim]} in the slot");
                else copies.Add(new Copy(entry, suffix, slot, source));
            }
        var unexpected = byKey.Keys.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).Select(k => Prefix + k).ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || shapes.Count > 0)
            throw new CheckpointMismatchException(weightsPath, missing.Select(k => Prefix + k).ToList(), unexpected, shapes);
        if (tooLarge.Count > 0)
            throw new AdapterException(null, $"adapter '{adapterName}' cannot take a larger rank in place ({string.Join("; ", tooLarge)}); " +
                "inject the slot with the largest rank you will swap in (smaller ranks are padded with zeros), or load the file as a new adapter.");

        // Per layer: the file's rank (from its A) and alpha (after its patterns) give the scaling to keep.
        var fileMatcher = new TargetMatcher(file, model);
        var scalings = new List<(PeftKeyLayout.Entry Entry, double Alpha, double Scaling)>();
        var rankProblems = new List<string>();
        foreach (var entry in entries)
        {
            var aKey = $"{entry.FilePath}.lora_A.weight";
            int fileRank = (int)byKey[aKey].shape[0];
            var own = fileMatcher.ConfigFor(entry.TargetPath ?? OwnerOf(entry.FilePath));
            if (own.Rank != fileRank) rankProblems.Add($"{Prefix}{aKey}: adapter_config.json gives rank {own.Rank} but the tensor has {fileRank} rows");
            if (byKey[$"{entry.FilePath}.lora_B.weight"].shape[1] != fileRank) rankProblems.Add($"{Prefix}{entry.FilePath}.lora_B.weight: expected {fileRank} columns (the rank of its lora_A)");
            double scaling = file.ScalingFor(fileRank, own.Alpha);
            int slotRank = entry.Layer.RankOf(adapterName);
            scalings.Add((entry, file.UseRsLora ? scaling * Math.Sqrt(slotRank) : scaling * slotRank, scaling));
        }
        if (rankProblems.Count > 0) throw new CheckpointMismatchException(weightsPath, [], [], rankProblems);

        using (no_grad())
            foreach (var copy in copies)
            {
                using var scope = NewDisposeScope();
                var source = copy.Source.to(copy.Slot.dtype, copy.Slot.device);
                if (copy.Suffix.StartsWith("lora_A", StringComparison.Ordinal) || copy.Suffix.StartsWith("lora_B", StringComparison.Ordinal))
                {
                    int rankDim = copy.Suffix.StartsWith("lora_A", StringComparison.Ordinal) ? 0 : 1;
                    long rank = source.shape[rankDim];
                    copy.Slot.zero_();
                    copy.Slot.narrow(rankDim, 0, rank).copy_(source);
                }
                else copy.Slot.copy_(source);
            }
        foreach (var (entry, alpha, scaling) in scalings) entry.Layer.TakeSwappedScaling(adapterName, alpha, scaling);
        Rerecord(adapterName, scalings);
        Substitution.AdapterRefresh.RefreshQuietly(model); // layers adapted in place hand the swapped weights to their modules
    }

    // The nested out_proj of PEFT's whole-attention layout follows its attention module's settings.
    private static string OwnerOf(string filePath)
    {
        const string nested = ".base_layer.out_proj";
        return filePath.EndsWith(nested, StringComparison.Ordinal) ? filePath[..^nested.Length] : filePath;
    }

    /// <summary>
    /// The adapter's record now states the alpha every layer computes with: one value, or exact-path patterns where
    /// layers differ. Layers that shared a record share the new one (one adapter, one record).
    /// </summary>
    private static void Rerecord(string adapterName, List<(PeftKeyLayout.Entry Entry, double Alpha, double Scaling)> scalings)
    {
        foreach (var group in scalings.GroupBy(s => s.Entry.Layer.RecordOf(adapterName)))
        {
            var targets = group.Where(s => s.Entry.TargetPath is not null).ToList();
            double first = targets.Count > 0 ? targets[0].Alpha : group.First().Alpha;
            var config = group.Key.Config with
            {
                Alpha = first,
                AlphaPattern = targets.Where(s => s.Alpha != first)
                    .ToDictionary(s => System.Text.RegularExpressions.Regex.Escape(s.Entry.TargetPath!), s => s.Alpha),
            };
            var replacement = group.Key.WithConfig(config);
            foreach (var layer in group.Select(s => s.Entry.Layer).Distinct()) layer.Adopt(adapterName, replacement);
        }
    }
}
