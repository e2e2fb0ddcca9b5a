using System.CommandLine;
using System.Reflection;
using LRCMT.Cli.Commands;
using LRCMT.Errors;
using Spectre.Console;

namespace LRCMT.Cli;

/// <summary>
/// The command line: <c>train</c> (also what runs with no arguments), <c>eval</c>, <c>predict</c>, <c>export</c>, <c>inspect</c>, <c>ablate</c>.
/// Every failure ends here as one message on the error stream and a documented <see cref="ExitCodes"/> value.
/// </summary>
public sealed class CliApp(IAnsiConsole console, TextWriter error)
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns the process exit code.</summary>
    public async Task<int> RunAsync(string[] args, CancellationToken cancellation = default)
    {
        var context = new CliContext(console, error, cancellation);
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("Run with --help to see the commands and options.");
            return ExitCodes.UsageError;
        }

        // Ctrl+C is handled by Program (stop after the step), so System.CommandLine must not terminate the process.
        var invocation = new InvocationConfiguration
        {
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
            Output = console.Profile.Out.Writer,
            Error = error,
        };
        try
        {
            return await parse.InvokeAsync(invocation, cancellation);
        }
        catch (Exception e)
        {
            var (code, message) = Explain(e);
            error.WriteLine($"error: {message}");
            if (Environment.GetEnvironmentVariable("LRCMT_DEBUG") == "1") error.WriteLine(e);
            return code;
        }
    }

    /// <summary>The exit code and user-facing message for an exception that reached the top.</summary>
    internal static (int Code, string Message) Explain(Exception e) => e switch
    {
        CliException cli => (cli.ExitCode, cli.Message),
        // A failed write, whether the library named the file (OutputFileException) or the runtime did.
        _ when IO.OutputFile.Describe(e) is { } problem => (ExitCodes.WriteError, e is OutputFileException ? e.Message : $"{problem} ({e.Message})"),
        InvalidConfigurationException config => (ExitCodes.ConfigurationError, config.Message),
        OperationCanceledException => (ExitCodes.Interrupted, "Interrupted."),
        NonFiniteLossException diverged => (ExitCodes.TrainingDiverged, diverged.Message),
        UnsafePickleException pickle => (ExitCodes.DataError, pickle.Message),
        LrcmtException lrcmt => (ExitCodes.UnexpectedError, lrcmt.Message),
        // libtorch's errors carry its native trace ("Exception raised from …", "frame #0: …"): its first line says what failed.
        System.Runtime.InteropServices.ExternalException native =>
            (ExitCodes.UnexpectedError, $"libtorch: {FirstLine(native.Message)} (set LRCMT_DEBUG=1 for the native and .NET stack traces)"),
        _ => (ExitCodes.UnexpectedError, $"{e.GetType().Name}: {e.Message} (set LRCMT_DEBUG=1 for the stack trace)"),
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd();

    private static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(
            "LRCMT: low-rank cross-modal Transformer for multimodal sentiment analysis. " +
            "With no command, trains on the controlled benchmark with the packaged MiniLM and prints the metrics." +
            Environment.NewLine + Environment.NewLine + ExitCodeHelp.Text);
        // --version prints the package version of this assembly (not of whichever process hosts the CLI, e.g. a test runner).
        root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
        TrainCommand.Configure(root, context);
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(ExplainCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(AblateCommand.Create(context));
        return root;
    }
}

/// <summary>The version option's action: the package version, exactly (the project sets no +commit suffix).</summary>
internal sealed class PrintVersion : System.CommandLine.Invocation.SynchronousCommandLineAction
{
    internal static string Version =>
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(Version);
        return ExitCodes.Success;
    }
}

/// <summary>What every command needs from the process: where to write, and the Ctrl+C token.</summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Error, CancellationToken Cancellation);
