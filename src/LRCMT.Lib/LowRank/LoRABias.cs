namespace LRCMT.LowRank;

/// <summary>Which bias vectors train together with a LoRA adapter (PEFT's <c>bias</c>).</summary>
public enum LoRABias
{
    /// <summary>No bias trains (PEFT <c>"none"</c>).</summary>
    None,

    /// <summary>Every bias of the model trains and is saved with the adapter (PEFT <c>"all"</c>).</summary>
    All,

    /// <summary>Only the biases of the adapted layers train and are saved (PEFT <c>"lora_only"</c>).</summary>
    LoraOnly,
}
