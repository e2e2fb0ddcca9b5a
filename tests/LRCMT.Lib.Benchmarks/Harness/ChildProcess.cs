using System.Diagnostics;
using System.Globalization;

namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// Runs one case of this benchmark program in a fresh process (so its peak memory and heap settings are its own) and
/// reads back the numbers of its <c>RESULT</c> line.
/// </summary>
public static class ChildProcess
{
    /// <returns>The numbers after <c>RESULT</c>, or an empty array when the child printed none (it failed).</returns>
    public static double[] Run(params string[] arguments)
    {
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        // Started as `dotnet LRCMT.Lib.Benchmarks.dll` the process is the dotnet host, which needs the assembly again.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var arg in arguments) start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(20))) child.Kill(entireProcessTree: true);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        return line is null ? [] : line[7..].Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The 1-, 5- and 15-minute load averages, as <c>/proc/loadavg</c> gives them (how busy the machine was).</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
