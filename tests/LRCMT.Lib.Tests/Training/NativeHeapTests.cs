using FluentAssertions;
using LRCMT.Training;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

/// <summary>Runs alone: it changes the process's allocator and reads the process's resident memory.</summary>
[CollectionDefinition(nameof(NativeHeapTests), DisableParallelization = true)]
public sealed class NativeHeapCollection;

[Collection(nameof(NativeHeapTests))]
public sealed class NativeHeapTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-4096)]
    [InlineData(NativeHeap.MaxMmapThreshold + 1)]
    public void Thresholds_glibc_would_refuse_are_rejected_by_name(int threshold)
    {
        var act = () => NativeHeap.LimitGrowth(threshold);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("mmapThresholdBytes");
    }

    [Fact]
    public void Support_is_reported_exactly_where_glibc_is_loaded()
    {
        bool glibc = OperatingSystem.IsLinux() && File.ReadLines("/proc/self/maps").Any(l => l.EndsWith("/libc.so.6", StringComparison.Ordinal));

        NativeHeap.IsSupported.Should().Be(glibc);
        NativeHeap.LimitGrowth().Should().Be(glibc);
    }

    // The behaviour the option exists for: with the threshold fixed, allocating and freeing tensors of a few megabytes
    // does not leave the process bigger. (glibc still serves a block from a free heap chunk that fits, which is
    // resident already; only new memory comes from mappings.) Without the fix, once earlier frees have raised glibc's
    // threshold, the blocks come from the top of the heap, and the small tensors kept alive after each of them stop
    // glibc from giving that memory back: ~96 MB would stay resident.
    [Fact]
    public void With_growth_limited_allocating_and_freeing_leaves_the_process_no_bigger()
    {
        Assert.SkipUnless(NativeHeap.IsSupported, "needs glibc");
        NativeHeap.LimitGrowth().Should().BeTrue();

        using (var warmUp = ones(1024, 1024)) warmUp.sum().Dispose(); // libtorch's first call maps its own libraries
        double before = ResidentMegabytes();
        var blocks = new List<Tensor>();
        var keepers = new List<Tensor>();
        for (int i = 0; i < 24; i++)
        {
            blocks.Add(ones(1024, 1024)); // 4 MiB, written
            keepers.Add(ones(16));
        }
        foreach (var block in blocks) block.Dispose();
        double after = ResidentMegabytes();
        foreach (var keeper in keepers) keeper.Dispose();

        (after - before).Should().BeLessThan(24, "96 MB were allocated, written and freed");
    }

    private static double ResidentMegabytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }
}
