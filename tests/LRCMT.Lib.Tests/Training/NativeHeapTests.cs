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

    // The behaviour the option exists for: with the threshold fixed, freed tensors of a few megabytes leave the process
    // at once. Earlier tests have freed large blocks, which (without the fix) raises glibc's threshold so such tensors
    // come from the heap and stay resident after they are freed.
    [Fact]
    public void With_growth_limited_freed_tensors_leave_the_process()
    {
        Assert.SkipUnless(NativeHeap.IsSupported, "needs glibc");
        NativeHeap.LimitGrowth().Should().BeTrue();

        double before = ResidentMegabytes();
        // 24 written blocks of 4 MiB, each followed by a small tensor that stays alive: from the heap, the freed blocks
        // would be holes below live data, which glibc keeps resident.
        var blocks = new List<Tensor>();
        var keepers = new List<Tensor>();
        for (int i = 0; i < 24; i++)
        {
            blocks.Add(ones(1024, 1024));
            keepers.Add(ones(16));
        }
        double held = ResidentMegabytes();
        foreach (var block in blocks) block.Dispose();
        double after = ResidentMegabytes();
        foreach (var keeper in keepers) keeper.Dispose();

        (held - before).Should().BeGreaterThan(80, "the blocks were written, so they are resident");
        (held - after).Should().BeGreaterThan(80, "each freed block is unmapped at once");
    }

    private static double ResidentMegabytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }
}
