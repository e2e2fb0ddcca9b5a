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
        // Started as `dotnet LRCMT.Lib.Benchmarks.dll` the process is the dotnet host, which needs the assembly again.
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? RunProgram(host, [typeof(ChildProcess).Assembly.Location, .. arguments])
            : RunProgram(host, arguments);
    }

    /// <summary>Runs another program (e.g. <c>python3</c> with a script) that prints a <c>RESULT</c> line the same way.</summary>
    /// <returns>The numbers after <c>RESULT</c>, or an empty array when it printed none or could not be started.</returns>
    public static double[] RunProgram(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in arguments) start.ArgumentList.Add(arg);
        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return []; // not installed
        }
        using var child = started!;
        var output = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(20))) child.Kill(entireProcessTree: true);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        return line is null ? [] : line[7..].Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The 1-, 5- and 15-minute load averages, as <c>/proc/loadavg</c> gives them (how busy the machine was).</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
