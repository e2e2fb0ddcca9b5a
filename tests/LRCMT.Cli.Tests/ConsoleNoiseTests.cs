using System.Diagnostics;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>
/// libtorch writes its warnings (<c>[W… file.cpp:line] …</c>, e.g. NNPACK's "Could not initialize NNPACK! Reason:
/// Unsupported hardware." from every convolution on some CPUs) straight to the process's stderr, past .NET's writers,
/// so only a real <c>lrcmt</c> process shows them.
/// </summary>
public class ConsoleNoiseTests
{
    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "lrcmt.dll");

    [Fact]
    public async Task Train_eval_and_explain_write_no_libtorch_warning_to_stderr()
    {
        if (!File.Exists(CliDll)) Assert.Skip("needs the built lrcmt.dll beside the tests");
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        string settings = TrainAndEvalTests.WriteSettings(temp);

        var commands = new[]
        {
            new[] { "train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--epochs", "1", "--output", run, "--threads", "1" },
            ["eval", run, "--threads", "1"],
            ["explain", run, "--samples", "1", "--threads", "1"],
        };
        foreach (var arguments in commands)
        {
            var (code, output, error) = await RunAsync(arguments);

            code.Should().Be(ExitCodes.Success, $"{string.Join(' ', arguments)}:\n{output}\n{error}");
            error.Split('\n').Where(line => line.TrimStart().StartsWith("[W", StringComparison.Ordinal))
                .Should().BeEmpty($"'{arguments[0]}' must keep the console clean");
            output.Should().NotContain("NNPACK");
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] arguments)
    {
        var token = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet", [CliDll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(token);
        var error = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return (process.ExitCode, await output, await error);
    }
}
