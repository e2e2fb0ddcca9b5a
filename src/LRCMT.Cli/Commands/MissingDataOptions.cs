using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using LRCMT.Configuration;
using LRCMT.Data;

namespace LRCMT.Cli.Commands;

/// <summary>
/// The missing-data flags of <c>eval</c> (one rate) and <c>ablate</c> (a list of rates): each becomes a
/// <see cref="MissingModalities"/>, whose rules check the values (named by the flag).
/// </summary>
internal sealed class MissingDataOptions(bool severalRates)
{
    internal Option<double[]> Rates { get; } = RatesOption(severalRates);

    internal Option<bool> WholeModalities { get; } = new("--missing-whole-modalities")
        { Description = "drop each acoustic and visual stream whole with the rate's probability, instead of that share of its frames" };

    internal Option<int?> Seed { get; } = OptionValues.Int("--missing-seed",
        $"seed of the missing-data masks (default MMSA's {MissingModalities.DefaultSeed}; the same for every model and run)", Settings.RunSettings.SeedRule);

    internal void AddTo(Command command)
    {
        command.Options.Add(Rates);
        command.Options.Add(WholeModalities);
        command.Options.Add(Seed);
    }

    /// <summary>One setting per rate given (in the order given), or none when the flag is absent.</summary>
    internal IReadOnlyList<MissingModalities> Resolve(ParseResult parse)
    {
        var rates = parse.GetValue(Rates) ?? [];
        bool whole = parse.GetValue(WholeModalities);
        int seed = parse.GetValue(Seed) ?? MissingModalities.DefaultSeed;
        return rates.Select(rate => new MissingModalities { Rate = rate, WholeModalities = whole, Seed = seed }).ToList();
    }

    private static Option<double[]> RatesOption(bool several)
    {
        string name = several ? "--missing-rates" : "--missing-rate";
        var option = new Option<double[]>(name)
        {
            Description = several
                ? "also evaluate every run's test split with these shares of frames missing, e.g. 0,0.1,0.3,0.5,0.7 (robustness.csv, robustness.md, one plot per variant)"
                : "evaluate with this share (0–1) of each sample's acoustic and visual frames masked out, seeded (see --missing-whole-modalities)",
            AllowMultipleArgumentsPerToken = several,
            HelpName = several ? "r1,r2,…" : "r",
        };
        option.CustomParser = result =>
        {
            var texts = result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            if (!several && texts.Count != 1)
            {
                result.AddError($"{name} expects one share in [0, 1], got '{string.Join(" ", texts)}'.");
                return [];
            }
            var values = new List<double>();
            foreach (var text in texts)
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    result.AddError($"{name} expects numbers in [0, 1], got '{text}'.");
                    return [];
                }
                // MissingModalities.Rate's own rule, named by the flag.
                if (SettingRules.Share(name, value) is { } problem)
                {
                    result.AddError(problem.ToString());
                    return [];
                }
                if (!values.Contains(value)) values.Add(value);
            }
            return values.ToArray();
        };
        return option;
    }
}
