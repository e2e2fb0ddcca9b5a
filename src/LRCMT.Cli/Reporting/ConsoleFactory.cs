using Spectre.Console;

namespace LRCMT.Cli.Reporting;

/// <summary>
/// The console the CLI writes to. On a terminal, Spectre.Console's detection (colours, width, live progress bar).
/// Anywhere else (a log file, a pipe, CI) plain text: no colours or cursor moves, and no width limit, so lines are
/// never hard-wrapped at 80 columns and table headers are never cut ("Has0_a…").
/// </summary>
internal static class ConsoleFactory
{
    /// <summary>The width used when the output is not a terminal: wide enough that nothing the CLI prints wraps.</summary>
    internal const int LogWidth = 4096;

    internal static IAnsiConsole Create(TextWriter output, bool isTerminal)
    {
        if (isTerminal) return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = LogWidth;
        return console;
    }
}
