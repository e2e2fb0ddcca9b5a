namespace LRCMT.Benchmarks.Harness;

/// <summary>One timed operation: <see cref="Iteration"/> runs once per measurement; <see cref="Resources"/> are disposed after.</summary>
public sealed record BenchmarkCase(string Name, Action Iteration, params IDisposable[] Resources) : IDisposable
{
    public void Dispose()
    {
        foreach (var resource in Resources) resource.Dispose();
    }
}
