using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.Regularization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Baselines;

/// <summary>
/// The Tensor Fusion Network (Zadeh et al., 2017). Each stream gets its embedding subnetwork (text: LSTM then two ReLU
/// layers, z<sub>t</sub>; acoustic and visual: frame average then three ReLU layers, z<sub>a</sub>, z<sub>v</sub>); the
/// fusion layer forms the outer product z = [z<sub>t</sub>; 1] ⊗ [z<sub>a</sub>; 1] ⊗ [z<sub>v</sub>; 1], flattened
/// (the appended 1s keep every unimodal and bimodal term next to the trimodal ones), and the sentiment inference
/// subnetwork (dropout, two ReLU layers, a linear output) reads it.
/// </summary>
/// <remarks>
/// The flattened tensor has (d<sub>t</sub>+1)(d<sub>a</sub>+1)(d<sub>v</sub>+1) entries, with the visual index running
/// fastest; with the paper's sizes (128, 32, 32) that is 140,481 and the first inference layer alone holds 18 M weights.
/// </remarks>
public sealed class TfnFusion : FusionBody
{
    private readonly UnimodalSubnetworks subnetworks;
    private Module<Tensor, Tensor> post_fusion_layer_1;
    private Module<Tensor, Tensor> post_fusion_layer_2;
    private Module<Tensor, Tensor> post_fusion_layer_3;

    private readonly TfnSettings _settings;

    /// <summary>Builds TFN for the given stream sizes.</summary>
    /// <param name="textWidth">Width of each text state (the text encoder's hidden size).</param>
    /// <param name="acousticFeatures">Raw acoustic feature size.</param>
    /// <param name="visualFeatures">Raw visual feature size.</param>
    /// <param name="outputs">1 for a regression score, or the number of classes for logits.</param>
    /// <param name="settings">Subnetwork sizes and dropouts; null for the paper's.</param>
    /// <exception cref="InvalidConfigurationException">A size or setting is unusable (every problem is listed).</exception>
    public TfnFusion(int textWidth, int acousticFeatures, int visualFeatures, int outputs = 1, TfnSettings? settings = null)
        : base(nameof(TfnFusion), textWidth, acousticFeatures, visualFeatures, outputs)
    {
        settings ??= new TfnSettings();
        settings.Validate();
        _settings = settings;
        var sub = settings.Subnetworks;
        subnetworks = new UnimodalSubnetworks(textWidth, acousticFeatures, visualFeatures, sub);
        var fused = (long)(sub.TextOut + 1) * (sub.AcousticHidden + 1) * (sub.VisualHidden + 1);
        post_fusion_layer_1 = Linear(fused, settings.PostFusionHidden);
        post_fusion_layer_2 = Linear(settings.PostFusionHidden, settings.PostFusionHidden);
        post_fusion_layer_3 = Linear(settings.PostFusionHidden, outputs);
        RegisterComponents();
    }

    /// <summary>The settings this body was built with.</summary>
    public TfnSettings Settings => _settings;

    /// <inheritdoc />
    public override Tensor forward(MaskedSequence text, MaskedSequence acoustic, MaskedSequence visual)
    {
        CheckInputs(text, acoustic, visual);
        using var scope = NewDisposeScope();
        var (zt, za, zv) = subnetworks.call(text, acoustic, visual);

        // [B, t, 1, 1] · [B, 1, a, 1] · [B, 1, 1, v] → [B, t, a, v], flattened with v fastest.
        var batch = zt.shape[0];
        var fused = (zt.view(batch, -1, 1, 1) * za.view(batch, 1, -1, 1) * zv.view(batch, 1, 1, -1)).reshape(batch, -1);

        var x = MaskDropout.Apply(fused, _settings.PostFusionDropout, training);
        x = functional.relu(post_fusion_layer_1.call(x));
        x = functional.relu(post_fusion_layer_2.call(x));
        return post_fusion_layer_3.call(x).MoveToOuterDisposeScope();
    }
}
