using LRCMT.Cli.Experiments;

namespace LRCMT.Cli.Settings;

/// <summary>
/// One <c>train --resume</c> of a run, as its config.json records it: the settings above stay those the run started
/// with (so <c>train -c config.json</c> repeats the run as started), and each resumption says what it changed — only
/// what a resume may change: more epochs, the device, the threads — and in which environment it ran.
/// </summary>
public sealed class Resumption
{
    /// <summary>When the resumed training started (UTC).</summary>
    public DateTime At { get; set; }

    /// <summary>Epochs the run had completed when it was resumed (0: it was stopped before its first checkpoint and started again).</summary>
    public int FromEpoch { get; set; }

    /// <summary>The run's epoch budget from this resumption on (the settings' <c>Training.Epochs</c>, or more).</summary>
    public int Epochs { get; set; }

    /// <summary>Where the resumed training ran.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>The threads setting of the resumed training (0 = auto).</summary>
    public int Threads { get; set; }

    /// <summary>What the resumed training's numbers depend on (threads in effect, CPU kernels, versions).</summary>
    public RunEnvironment? Environment { get; set; }
}
