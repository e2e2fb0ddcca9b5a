using System.CommandLine;
using LRCMT.Cli.Settings;
using LRCMT.Errors;
using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments;

/// <summary><c>--seeds</c> on <c>train</c> and <c>ablate</c>: a count (5 = seeds 1…5, MMSA's <c>-s</c> style) or a list (1,2,3).</summary>
internal static class SeedsOption
{
    internal static Option<string?> Create() => new("--seeds")
    {
        Description = "several seeds, one run each, then mean ± std, min and max: a count (5 = seeds 1..5) or a list (1,2,3)",
    };

    /// <summary>The seeds to run: those of <c>--seeds</c>, else the settings' single seed.</summary>
    /// <exception cref="CliException">--seeds is malformed, or given together with --seed (usage error).</exception>
    internal static IReadOnlyList<int> Resolve(ParseResult parse, Option<string?> seeds, Option<int?> seed, RunSettings settings)
    {
        if (parse.GetValue(seeds) is not { } text) return [(int)settings.Training.Seed];
        if (parse.GetValue(seed) is not null)
            throw new CliException(ExitCodes.UsageError, "Give either --seed or --seeds, not both.");
        try
        {
            return SeedList.Parse(text);
        }
        catch (InvalidConfigurationException e)
        {
            throw new CliException(ExitCodes.UsageError, $"--seeds '{text}': {string.Join("; ", e.Problems)}", e);
        }
    }

    /// <summary>A copy of <paramref name="settings"/> with <paramref name="seed"/> applied to data, initialisation and shuffling.</summary>
    internal static RunSettings ForSeed(RunSettings settings, int seed)
    {
        var copy = RunSettingsFile.Clone(settings);
        copy.ApplySeed(seed);
        return copy;
    }

    /// <summary>The sub-folder name of one seed's run.</summary>
    internal static string FolderName(int seed) => $"seed-{seed}";
}
