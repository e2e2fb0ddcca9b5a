namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// A group that measures and prints its own table instead of timing in-process cases (e.g. one that needs a fresh
/// process per case to read a peak-memory figure). <see cref="IBenchmarkGroup.CreateCases"/> is not called.
/// </summary>
public interface ISelfReportingGroup : IBenchmarkGroup
{
    void Report(int runs);
}
