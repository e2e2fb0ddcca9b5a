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
        var curves = new TrainingCurves("Has0_acc_2");
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
}
