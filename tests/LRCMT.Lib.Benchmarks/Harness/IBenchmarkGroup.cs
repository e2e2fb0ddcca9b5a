namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// A group of related timings printed together. Add a benchmark by adding a class that implements this interface
/// (with a parameterless constructor); the runner finds it by reflection.
/// </summary>
public interface IBenchmarkGroup
{
    /// <summary>Short name used by <c>--filter</c>, e.g. "lora-forward".</summary>
    string Name { get; }

    /// <summary>One line saying what is compared, with sizes.</summary>
    string Description { get; }

    /// <summary>Creates the cases; each owns its modules and tensors until disposed.</summary>
    IEnumerable<BenchmarkCase> CreateCases();
}
