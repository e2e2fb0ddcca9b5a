using System.CommandLine;
using LRCMT.Cli.Settings;
using LRCMT.Training;

namespace LRCMT.Cli.Commands;

/// <summary>
/// <c>--protocol</c> of <c>train</c> and <c>ablate</c>: <c>mmsa</c> trains as MMSA does (model selection on the
/// validation loss with MMSA's patience, <see cref="TrainerOptions.WithMmsaProtocol"/>, and MMSA's seeds unless seeds
/// were given), <c>settings</c> keeps the configured selection and seeds. Without the flag, the data decides: mmsa for
/// an MMSA <c>.pkl</c> file (whose results are compared with MMSA's tables), settings for the controlled benchmark.
/// </summary>
internal sealed class ProtocolOption
{
    internal const string Mmsa = "mmsa";
    internal const string Configured = "settings";

    private static readonly string Seeds = $"{TrainerOptions.MmsaSeeds[0]}..{TrainerOptions.MmsaSeeds[^1]}";

    internal Option<string?> Option { get; } = OptionValues.OneOf("--protocol",
        $"{Mmsa}: select each run's epoch on the validation loss, stop after {TrainerOptions.MmsaPatience} epochs without improvement, " +
        $"and run MMSA's seeds {Seeds} (one train run: {TrainerOptions.MmsaSeeds[0]}) unless --seeds/--seed is given (default for .pkl data); " +
        $"{Configured}: the configured selection metric and seeds (default for the controlled benchmark); --resume keeps the run's own unless --protocol is given",
        Mmsa, Configured);

    internal void AddTo(Command command) => command.Options.Add(Option);

    /// <summary>The protocol a new run follows: the flag's, else the one of its data (mmsa for a .pkl file).</summary>
    private string Chosen(ParseResult parse, RunSettings settings) =>
        parse.GetValue(Option) ?? (settings.Data.IsControlled ? Configured : Mmsa);

    /// <summary>
    /// Applies the chosen protocol to a new run's <paramref name="settings"/>: under mmsa, MMSA's model selection.
    /// </summary>
    /// <param name="parse">The command line.</param>
    /// <param name="settings">The resolved settings; under mmsa their training options are replaced.</param>
    /// <param name="seedsGiven">Whether the command line chose the seeds (<c>--seed</c> or <c>--seeds</c>).</param>
    /// <returns>MMSA's seeds when they replace the command's (mmsa, no seed given); otherwise null.</returns>
    internal IReadOnlyList<int>? Apply(ParseResult parse, RunSettings settings, bool seedsGiven)
    {
        if (Chosen(parse, settings) != Mmsa) return null;
        settings.Training = settings.Training.WithMmsaProtocol();
        return seedsGiven ? null : TrainerOptions.MmsaSeeds;
    }

    /// <summary>
    /// A resumed run keeps the selection it was trained with: the data's default is not applied again (a .pkl run
    /// trained under either protocol resumes without flags). A <c>--protocol</c> given with <c>--resume</c> asks for the
    /// selection a new run would get under it — mmsa's, or that of the settings file and defaults
    /// (<paramref name="configured"/>) — so a run trained under the other is refused like any other difference. Seeds
    /// stay the run's own.
    /// </summary>
    internal void ApplyToResumed(ParseResult parse, RunSettings asked, Func<RunSettings> configured)
    {
        switch (parse.GetValue(Option))
        {
            case Mmsa:
                asked.Training = asked.Training.WithMmsaProtocol();
                break;
            case Configured:
                // The two settings WithMmsaProtocol replaces, as a new run would be configured with them.
                var own = configured().Training;
                asked.Training = asked.Training with { EarlyStoppingMetric = own.EarlyStoppingMetric, Patience = own.Patience };
                break;
        }
    }
}
