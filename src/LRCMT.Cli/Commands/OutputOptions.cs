using System.CommandLine;

namespace LRCMT.Cli.Commands;

/// <summary>The --output / --force pair of commands that write a folder.</summary>
internal static class OutputOptions
{
    internal static Option<string?> Output(string defaultText) => new("--output", "-o")
        { Description = $"folder to write (default: {defaultText}); refused if it exists, unless --force" };

    internal static Option<bool> Force() => new("--force")
        { Description = "replace an existing output folder (only once the new run has finished)" };

    /// <summary>A fresh folder name under <paramref name="parent"/>, so runs with default settings never collide.</summary>
    internal static string TimestampedFolder(string parent, string prefix) =>
        Path.Combine(parent, $"{prefix}-{DateTime.Now:yyyyMMdd-HHmmss}");
}
