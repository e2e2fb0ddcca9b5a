namespace LRCMT.Experiments;

/// <summary>What one seed of a configuration produced: its test metrics, the validation metrics of the selected epoch, and (optionally) the test predictions.</summary>
public sealed class SeedRun
{
    /// <summary>Creates the record.</summary>
    public SeedRun(int seed, IReadOnlyDictionary<string, double> test, IReadOnlyDictionary<string, double>? valid = null, SamplePredictions? testPredictions = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        Seed = seed;
        Test = test;
        Valid = valid;
        TestPredictions = testPredictions;
    }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>MMSA metrics on the test split.</summary>
    public IReadOnlyDictionary<string, double> Test { get; }

    /// <summary>MMSA metrics on the validation split at the selected epoch, if any.</summary>
    public IReadOnlyDictionary<string, double>? Valid { get; }

    /// <summary>Per-sample test predictions, needed for the paired bootstrap.</summary>
    public SamplePredictions? TestPredictions { get; }
}
