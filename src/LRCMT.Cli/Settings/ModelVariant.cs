namespace LRCMT.Cli.Settings;

/// <summary>The model variants the CLI trains and compares (the paper's ablations), by name.</summary>
public enum ModelVariant
{
    /// <summary>The full design: LoRA encoder, V↔A stage, then text interaction.</summary>
    Lrcmt,

    /// <summary>Text only: the LoRA encoder and a head; acoustic and visual inputs ignored.</summary>
    TextOnly,

    /// <summary>No V↔A stage: text meets each modality directly (as MulT).</summary>
    NoVisualAcousticStage,

    /// <summary>Every encoder weight trains instead of LoRA adapters.</summary>
    FullFineTuning,

    /// <summary>Frozen encoder without adapters: only fusion and head train.</summary>
    FrozenEncoder,

    /// <summary>MulT (Tsai et al., 2019) behind the same LoRA encoder (<c>Model.MulT</c> settings).</summary>
    MulT,

    /// <summary>TFN (Zadeh et al., 2017) behind the same LoRA encoder (<c>Model.Tfn</c> settings).</summary>
    Tfn,

    /// <summary>LMF (Liu et al., 2018) behind the same LoRA encoder (<c>Model.Lmf</c> settings).</summary>
    Lmf,

    /// <summary>MAG-BERT (Rahman et al., 2020): its gate injected into the same LoRA encoder (<c>Model.Mag</c> settings).</summary>
    MagBert,
}
