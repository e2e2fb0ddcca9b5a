namespace LRCMT.Models;

/// <summary>Which text-encoder parameters train (the fine-tuning ablations).</summary>
public enum EncoderTuning
{
    /// <summary>The encoder is frozen and LoRA adapters are injected into it; only adapters train (LRCMT).</summary>
    LoRA,

    /// <summary>The encoder is frozen and has no adapters; it runs without building a graph.</summary>
    Frozen,

    /// <summary>Every encoder parameter trains (full fine-tuning).</summary>
    Full,
}
