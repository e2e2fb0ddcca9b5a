using System.CommandLine;
using LRCMT.Cli.Experiments;

namespace LRCMT.Cli.Commands;

/// <summary><c>inspect</c>: builds the configured model and prints its parameter report (nothing is trained or written).</summary>
internal static class InspectCommand
{
    internal static Command Create(CliContext context)
    {
        var settingsOptions = new SettingsOptions(SettingsScope.Inspect);
        var command = new Command("inspect", "Print the parameter report (trainable vs all, per component) of a configuration.");
        settingsOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var settings = settingsOptions.Resolve(parse);
            Preflight.CheckEncoder(settings.Model.TextEncoder);
            ParameterInspection.Print(settings, context);
            return ExitCodes.Success;
        });
        return command;
    }
}
