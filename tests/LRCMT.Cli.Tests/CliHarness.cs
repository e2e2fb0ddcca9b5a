using LRCMT.Cli;
using LRCMT.Cli.Reporting;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>Runs the CLI in-process and captures what it prints.</summary>
internal sealed class CliHarness
{
    internal sealed record Result(int ExitCode, string Output, string Error);

    internal static Task<Result> RunAsync(params string[] args) => RunAsync(TestContext.Current.CancellationToken, args);

    internal static async Task<Result> RunAsync(CancellationToken cancellation, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // The console the CLI uses when its output is redirected (a log file), as in CI.
        var console = ConsoleFactory.Create(output, isTerminal: false);
        int code = await new CliApp(console, error).RunAsync(args, cancellation);
        return new Result(code, output.ToString(), error.ToString());
    }
}

/// <summary>A temporary folder removed at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    internal string Path { get; } = Directory.CreateTempSubdirectory("lrcmt-cli-tests-").FullName;

    internal string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
