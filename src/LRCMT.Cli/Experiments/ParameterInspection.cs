using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Settings;
using LRCMT.LowRank;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>Builds the configured model and prints where its parameters are and which of them train.</summary>
internal static class ParameterInspection
{
    internal static void Print(RunSettings settings, CliContext context)
    {
        var data = ExperimentData.Load(settings.Data);
        var encoder = EncoderLoader.Load(settings.Model.TextEncoder);
        using var model = ModelFactory.Build(settings, encoder, data);
        var console = context.Console;

        console.MarkupLine($"Encoder: {Markup.Escape(encoder.Description)}; {Markup.Escape(data.Description)}");
        console.MarkupLine($"Interaction: {settings.Model.Interaction.Mode}; encoder tuning: {settings.Model.TextEncoder.Tuning}");
        var table = new Table().AddColumn("Component").AddColumn(new TableColumn("Parameters").RightAligned())
            .AddColumn(new TableColumn("Trainable").RightAligned());
        // Adapters are found by structure, never by name: what trains inside the LoRA layers the injector placed.
        var adapters = model.modules().OfType<LoRALayer>().SelectMany(l => l.parameters()).Where(p => p.requires_grad).Select(p => p.Handle).ToHashSet();
        foreach (var group in model.named_parameters().GroupBy(p => Component(p.name, adapters.Contains(p.parameter.Handle))))
        {
            long all = group.Sum(p => p.parameter.numel());
            long trainable = group.Where(p => p.parameter.requires_grad).Sum(p => p.parameter.numel());
            table.AddRow(Markup.Escape(group.Key), $"{all:N0}", $"{trainable:N0}");
        }
        console.Write(table);
        console.MarkupLine(Markup.Escape(model.GetParameterReport().ToString()));
    }

    // Top-level component, with the encoder's adapters listed apart from its frozen weights.
    private static string Component(string name, bool adapter)
    {
        string top = name.Split('.')[0];
        return adapter ? $"{top} (LoRA adapters)" : top;
    }
}
