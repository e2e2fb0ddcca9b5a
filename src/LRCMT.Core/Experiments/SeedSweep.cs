namespace LRCMT.Experiments;

/// <summary>Runs one configuration once per seed and summarises the test metrics over the seeds that finished.</summary>
public static class SeedSweep
{
    /// <summary>
    /// Calls <paramref name="runSeed"/> for each of <paramref name="seeds"/> in order; a null result (the run was
    /// interrupted) stops the sweep, keeping the seeds that finished.
    /// </summary>
    /// <exception cref="ArgumentException">No seeds, or a seed listed twice.</exception>
    public static SeedSweepResult Run(IReadOnlyList<int> seeds, Func<int, SeedRun?> runSeed)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(runSeed);
        if (seeds.Count == 0) throw new ArgumentException("A seed sweep needs at least one seed.", nameof(seeds));
        if (seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"Seeds repeat: [{string.Join(", ", seeds)}].", nameof(seeds));
        var runs = new List<SeedRun>();
        foreach (int seed in seeds)
        {
            var run = runSeed(seed);
            if (run is null) return new SeedSweepResult(runs, interrupted: true);
            if (run.Seed != seed) throw new InvalidOperationException($"The run for seed {seed} reports seed {run.Seed}.");
            runs.Add(run);
        }
        return new SeedSweepResult(runs, interrupted: false);
    }
}

/// <summary>The seed runs of one configuration and their summary.</summary>
public sealed class SeedSweepResult
{
    internal SeedSweepResult(IReadOnlyList<SeedRun> runs, bool interrupted)
    {
        Runs = runs;
        Interrupted = interrupted;
        Test = runs.Count > 0 ? MetricSummary.OfRuns(runs.Select(r => r.Test).ToList()) : [];
    }

    /// <summary>The runs that finished, in seed order.</summary>
    public IReadOnlyList<SeedRun> Runs { get; }

    /// <summary>Whether a run was interrupted (the later seeds did not run).</summary>
    public bool Interrupted { get; }

    /// <summary>Per test metric: mean, sample standard deviation, min and max over <see cref="Runs"/>.</summary>
    public IReadOnlyList<MetricSummary> Test { get; }
}
