using System.CommandLine;
using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Commands;
using Spectre.Console;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>
/// docs/getting-started.md's exit-code table, commands table and options table against the tool's own definitions:
/// <see cref="ExitCodes"/> and the System.CommandLine commands <c>lrcmt</c> is built from.
/// </summary>
public partial class DocsConsistencyTests
{
    private static readonly string GettingStarted = File.ReadAllText(RepositoryFiles.Path("docs", "getting-started.md"));

    [Fact]
    public void The_exit_code_table_lists_exactly_the_codes_the_tool_defines()
    {
        var defined = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int)).Select(f => (int)f.GetRawConstantValue()!).ToList();

        var documented = TableRows("### Exit codes").Select(cells => int.Parse(cells[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();

        documented.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(defined);
    }

    [Fact]
    public void The_options_table_documents_every_option_of_train_and_ablate_and_no_other()
    {
        var tool = OptionNames(Command("train")).Union(OptionNames(Command("ablate"))).ToHashSet();
        var table = TableRows("Options of `train` and `ablate`").SelectMany(cells => OptionTokens(cells[0])).ToHashSet();
        // What the commands table says of train itself (--resume).
        var commandRows = CommandRows("train").SelectMany(cells => OptionTokens(cells[0])).ToHashSet();

        tool.Except(table).Except(commandRows).Should().BeEmpty("every option of train and ablate (lrcmt train --help) is in the options table");
        table.Except(tool).Should().BeEmpty("the options table names only options the tool has");
    }

    [Theory]
    [InlineData("eval")]
    [InlineData("predict")]
    [InlineData("export")]
    [InlineData("explain")]
    [InlineData("inspect")]
    public void The_commands_table_names_every_option_of_the_command(string name)
    {
        var documented = new HashSet<string>();
        var borrowed = new HashSet<string>();
        foreach (var cells in CommandRows(name))
        {
            documented.UnionWith(OptionTokens(string.Join(' ', cells)));
            // "same options as `eval`" / "same data options as `eval`" points to eval's row (which may name more).
            if (SameAs().Match(cells[1]) is { Success: true } same)
                foreach (var other in CommandRows(same.Groups[1].Value)) borrowed.UnionWith(OptionTokens(string.Join(' ', other)));
        }
        var options = Options(Command(name)).ToList();

        options.Where(o => !o.Aliases.Prepend(o.Name).Any(n => documented.Contains(n) || borrowed.Contains(n))).Select(o => o.Name)
            .Should().BeEmpty($"every option of '{name}' (lrcmt {name} --help) is named in its row of the commands table");
        documented.Where(t => !t.EndsWith('-')).Except(options.SelectMany(o => o.Aliases.Prepend(o.Name)))
            .Should().BeEmpty($"the '{name}' row names only options the command has");
    }

    [Fact]
    public async Task The_threads_row_gives_the_exit_codes_the_tool_gives_for_too_many_threads()
    {
        var row = TableRows("Options of `train` and `ablate`").Single(cells => cells[0].Contains("--threads", StringComparison.Ordinal))[1];
        var flag = ThreadsFlagExit().Match(row);
        var file = ThreadsFileExit().Match(row);
        flag.Success.Should().BeTrue($"the row says which exit code '--threads 999' gives: {row}");
        file.Success.Should().BeTrue($"the row says which exit code a settings file with Threads 999 gives: {row}");
        using var temp = new TempFolder();
        string settings = temp.Combine("settings.json");
        File.WriteAllText(settings, """{ "Threads": 999 }""");

        var fromFlag = await CliHarness.RunAsync("train", "--threads", "999", "--output", temp.Combine("run"));
        var fromFile = await CliHarness.RunAsync("train", "-c", settings, "--output", temp.Combine("run"));

        fromFlag.ExitCode.Should().Be(int.Parse(flag.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), fromFlag.Error);
        fromFile.ExitCode.Should().Be(int.Parse(file.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), fromFile.Error);
    }

    private static Command Command(string name)
    {
        var context = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }), TextWriter.Null, default);
        return name switch
        {
            "train" => TrainCommand.Create(context),
            "ablate" => AblateCommand.Create(context),
            "eval" => EvalCommand.Create(context),
            "predict" => PredictCommand.Create(context),
            "export" => ExportCommand.Create(context),
            "explain" => ExplainCommand.Create(context),
            "inspect" => InspectCommand.Create(context),
            _ => throw new ArgumentException(name),
        };
    }

    // Every name and alias of the command's own options (help is System.CommandLine's, not the tool's).
    private static IEnumerable<Option> Options(Command command) => command.Options.Where(o => o is not System.CommandLine.Help.HelpOption);

    private static IEnumerable<string> OptionNames(Command command) => Options(command).SelectMany(o => o.Aliases.Prepend(o.Name));

    private static IEnumerable<string> OptionTokens(string text) => OptionToken().Matches(text).Select(m => m.Value);

    // Rows of the commands table whose first cell is the command (`eval <run> …`, `predict <run> --engine onnx …`).
    private static IEnumerable<string[]> CommandRows(string name) =>
        TableRows("### Commands").Where(cells => Regex.IsMatch(cells[0], $"^`{name}( |`)"));

    /// <summary>The cells of each body row of the first table after the line that contains <paramref name="heading"/>.</summary>
    private static List<string[]> TableRows(string heading)
    {
        var lines = GettingStarted.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int at = lines.FindIndex(l => l.Contains(heading, StringComparison.Ordinal));
        at.Should().BeGreaterThanOrEqualTo(0, $"docs/getting-started.md has '{heading}'");
        while (!lines[at].StartsWith('|')) at++;
        var rows = new List<string[]>();
        for (at += 2; at < lines.Count && lines[at].StartsWith('|'); at++)
            rows.Add(CellSeparator().Split(lines[at].Trim().Trim('|')).Select(c => c.Trim()).ToArray());
        return rows;
    }

    [GeneratedRegex(@"(?<![\w-])--?[a-zA-Z][\w-]*")]
    private static partial Regex OptionToken();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();

    [GeneratedRegex(@"same (?:data )?options as `(\w+)`", RegexOptions.IgnoreCase)]
    private static partial Regex SameAs();

    [GeneratedRegex(@"exit (\d+) as a flag")]
    private static partial Regex ThreadsFlagExit();

    [GeneratedRegex(@"exit (\d+) in a settings file")]
    private static partial Regex ThreadsFileExit();
}
