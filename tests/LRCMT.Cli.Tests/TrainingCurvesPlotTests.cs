using FluentAssertions;
using LRCMT.Cli.Reporting;
using Xunit;

namespace LRCMT.Tests.Cli;

public class TrainingCurvesPlotTests
{
    [Fact]
    public void The_plot_is_a_png_of_the_requested_size()
    {
        using var temp = new TempFolder();
        var curves = new TrainingCurves("Has0_acc_2", "Lrcmt, seed 1");
        curves.Add(new(1, 1.2, 1.1, 0.61));
        curves.Add(new(2, 0.9, 0.95, 0.74));
        string path = temp.Combine("training-curves.png");

        TrainingCurvesPlot.Save(curves, path, width: 640, height: 360);

        var bytes = File.ReadAllBytes(path);
        bytes.Take(8).Should().Equal(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
        // IHDR: width and height are big-endian at bytes 16..23.
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)).Should().Be(640);
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)).Should().Be(360);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(40)]
    public void Histories_of_any_length_with_or_without_a_restored_epoch_give_a_png(int epochs)
    {
        using var temp = new TempFolder();
        var curves = new TrainingCurves("MAE", "Lrcmt, seed 1") { BestEpoch = epochs > 0 ? 1 : null, TestMetric = epochs > 0 ? 0.8 : null };
        for (int e = 1; e <= epochs; e++) curves.Add(new(e, 1.0 / e, double.NaN, 0.9));
        string path = temp.Combine("curves.png");

        TrainingCurvesPlot.Save(curves, path);

        new FileInfo(path).Length.Should().BeGreaterThan(1000);
    }
}
