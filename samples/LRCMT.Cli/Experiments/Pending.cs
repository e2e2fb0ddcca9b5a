using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;

namespace LRCMT.Cli.Experiments;

internal static class TrainingRun
{
    internal static TrainingOutcome Execute(RunSettings settings, RunFolder folder, CliContext context) =>
        throw new CliException(ExitCodes.UnexpectedError, "Training is not wired yet: the model and trainer have not landed in LRCMT.Lib.");
}

internal static class EvaluationRun
{
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context) =>
        throw new CliException(ExitCodes.UnexpectedError, "Evaluation is not wired yet: the model has not landed in LRCMT.Lib.");
}

internal static class ParameterInspection
{
    internal static void Print(RunSettings settings, CliContext context) =>
        throw new CliException(ExitCodes.UnexpectedError, "Inspection is not wired yet: the model has not landed in LRCMT.Lib.");
}

internal static class AblationRun
{
    internal static bool Execute(RunSettings settings, IReadOnlyList<ModelVariant> variants, RunFolder folder, CliContext context) =>
        throw new CliException(ExitCodes.UnexpectedError, "Ablation is not wired yet: the model and trainer have not landed in LRCMT.Lib.");
}
