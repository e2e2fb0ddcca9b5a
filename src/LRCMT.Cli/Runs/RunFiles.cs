namespace LRCMT.Cli.Runs;

/// <summary>The file names inside a run folder (documented in docs/getting-started.md).</summary>
internal static class RunFiles
{
    /// <summary>MMSA metrics of the test and validation splits, and per-epoch history.</summary>
    internal const string Metrics = "metrics.json";

    /// <summary>The resolved configuration: every setting the run used, defaults included.</summary>
    internal const string Configuration = "config.json";

    /// <summary>Every trainable tensor (adapters, fusion, head) by state-dict key, at the selected epoch.</summary>
    internal const string TrainableWeights = "trainable.safetensors";

    /// <summary>The trainer's last resumable checkpoint (weights, optimizer, scheduler, RNG, epoch).</summary>
    internal const string TrainerCheckpoint = "checkpoint";

    /// <summary>The LoRA adapter in PEFT's format (adapter_config.json + adapter_model.safetensors).</summary>
    internal const string Adapter = "adapter";

    /// <summary>Loss and validation metric per epoch.</summary>
    internal const string Curves = "training-curves.png";
}
