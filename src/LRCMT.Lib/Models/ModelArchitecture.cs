namespace LRCMT.Models;

/// <summary>
/// Which model an <see cref="Configuration.LrcmtOptions"/> description builds behind its text encoder: LRCMT, or one of
/// the published baselines composed from the library's blocks (docs/baselines.md). Every architecture shares the
/// description's text encoder (source, tuning, LoRA, base dtype), feature sizes and head kind, so a comparison isolates
/// the fusion.
/// </summary>
public enum ModelArchitecture
{
    /// <summary>LRCMT: projections, the interaction of <c>Interaction</c> with the cross-modal encoders of <c>Fusion</c>, and a head (<see cref="LRCMTModel"/>).</summary>
    Lrcmt,

    /// <summary>MulT (Tsai et al., 2019) with the settings of <c>MulT</c>: <see cref="Baselines.MulTFusion"/> behind the encoder.</summary>
    MulT,

    /// <summary>TFN (Zadeh et al., 2017) with the settings of <c>Tfn</c>: <see cref="Baselines.TfnFusion"/> behind the encoder.</summary>
    Tfn,

    /// <summary>LMF (Liu et al., 2018) with the settings of <c>Lmf</c>: <see cref="Baselines.LmfFusion"/> behind the encoder.</summary>
    Lmf,

    /// <summary>MAG-BERT (Rahman et al., 2020) with the settings of <c>Mag</c>: a gate injected into the encoder (<see cref="Baselines.MagBertModel"/>).</summary>
    MagBert,
}
