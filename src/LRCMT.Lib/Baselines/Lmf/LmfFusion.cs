using LRCMT.Errors;
using LRCMT.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// Low-rank Multimodal Fusion (Liu et al., 2018). The streams get TFN's embedding subnetworks; instead of multiplying
/// TFN's flattened outer product by a full weight tensor W, W is decomposed into r modality-specific factors, and
/// h = Σ<sub>i=1..r</sub> (W<sub>t</sub><sup>(i)</sup>[z<sub>t</sub>; 1]) ∘ (W<sub>a</sub><sup>(i)</sup>[z<sub>a</sub>; 1])
/// ∘ (W<sub>v</sub><sup>(i)</sup>[z<sub>v</sub>; 1]) + b, which equals W·([z<sub>t</sub>; 1] ⊗ [z<sub>a</sub>; 1] ⊗
/// [z<sub>v</sub>; 1]) + b for W = Σ<sub>i</sub> W<sub>t</sub><sup>(i)</sup> ⊗ W<sub>a</sub><sup>(i)</sup> ⊗ W<sub>v</sub><sup>(i)</sup>
/// without ever forming the tensor. As in the published model, h is the output (one score, or one logit per class).
/// </summary>
public sealed class LmfFusion : FusionBody
{
    private readonly UnimodalSubnetworks subnetworks;
    // [rank, d + 1, outputs] per modality; the row d multiplies the appended 1.
    private readonly Parameter text_factor;
    private readonly Parameter acoustic_factor;
    private readonly Parameter visual_factor;
    private readonly Parameter fusion_bias;

    private readonly LmfSettings _settings;

    /// <summary>Builds LMF for the given stream sizes.</summary>
    /// <param name="textWidth">Width of each text state (the text encoder's hidden size).</param>
    /// <param name="acousticFeatures">Raw acoustic feature size.</param>
    /// <param name="visualFeatures">Raw visual feature size.</param>
    /// <param name="outputs">1 for a regression score, or the number of classes for logits.</param>
    /// <param name="settings">Subnetwork sizes, dropout and rank; null for the defaults.</param>
    /// <exception cref="InvalidConfigurationException">A size or setting is unusable (every problem is listed).</exception>
    public LmfFusion(int textWidth, int acousticFeatures, int visualFeatures, int outputs = 1, LmfSettings? settings = null)
        : base(nameof(LmfFusion), textWidth, acousticFeatures, visualFeatures, outputs)
    {
        settings ??= new LmfSettings();
        settings.Validate();
        _settings = settings;
        var sub = settings.Subnetworks;
        subnetworks = new UnimodalSubnetworks(textWidth, acousticFeatures, visualFeatures, sub);
        text_factor = Factor(settings.Rank, sub.TextOut, outputs);
        acoustic_factor = Factor(settings.Rank, sub.AcousticHidden, outputs);
        visual_factor = Factor(settings.Rank, sub.VisualHidden, outputs);
        fusion_bias = new Parameter(zeros(outputs));
        RegisterComponents();
    }

    /// <summary>The settings this body was built with.</summary>
    public LmfSettings Settings => _settings;

    /// <inheritdoc />
    public override Tensor forward(MaskedSequence text, MaskedSequence acoustic, MaskedSequence visual)
    {
        CheckInputs(text, acoustic, visual);
        using var scope = NewDisposeScope();
        // [B, d + 1] @ [r, d + 1, out] → [r, B, out] per modality; the product over modalities, then the sum over ranks.
        var (zt, za, zv) = subnetworks.call(text, acoustic, visual);
        var t = zt.matmul(text_factor);
        var a = za.matmul(acoustic_factor);
        var v = zv.matmul(visual_factor);
        return (t * a * v).sum(dim: 0).add(fusion_bias, One).MoveToOuterDisposeScope();
    }

    // Xavier-normal, as the published code initialises its factors.
    private static Parameter Factor(int rank, int width, int outputs)
    {
        var factor = new Parameter(empty(rank, width + 1, outputs));
        nn.init.xavier_normal_(factor);
        return factor;
    }
}
