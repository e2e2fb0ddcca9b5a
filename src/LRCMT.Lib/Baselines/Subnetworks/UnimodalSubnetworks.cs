using LRCMT.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// TFN's three modality embedding subnetworks (LMF reuses them): z<sub>t</sub>, z<sub>a</sub>, z<sub>v</sub>, each
/// returned with a constant 1 appended, [z; 1], which is what both fusions multiply (the 1 keeps the lower-order terms).
/// </summary>
internal sealed class UnimodalSubnetworks : nn.Module<MaskedSequence, MaskedSequence, MaskedSequence, (Tensor Text, Tensor Acoustic, Tensor Visual)>
{
    private readonly TextLstmSubnetwork text;
    private readonly AveragedFeatureSubnetwork acoustic;
    private readonly AveragedFeatureSubnetwork visual;

    public UnimodalSubnetworks(long textWidth, long acousticFeatures, long visualFeatures, UnimodalSubnetworkSettings settings)
        : base(nameof(UnimodalSubnetworks))
    {
        text = new TextLstmSubnetwork(textWidth, settings);
        acoustic = new AveragedFeatureSubnetwork(acousticFeatures, settings.AcousticHidden, settings.Dropout);
        visual = new AveragedFeatureSubnetwork(visualFeatures, settings.VisualHidden, settings.Dropout);
        RegisterComponents();
    }

    /// <summary>[z<sub>t</sub>; 1] [batch, TextOut + 1], [z<sub>a</sub>; 1] [batch, AcousticHidden + 1], [z<sub>v</sub>; 1] [batch, VisualHidden + 1].</summary>
    public override (Tensor Text, Tensor Acoustic, Tensor Visual) forward(MaskedSequence textStates, MaskedSequence acousticFrames, MaskedSequence visualFrames)
    {
        using var scope = NewDisposeScope();
        var zt = WithOne(text.call(textStates)).MoveToOuterDisposeScope();
        var za = WithOne(acoustic.call(acousticFrames)).MoveToOuterDisposeScope();
        var zv = WithOne(visual.call(visualFrames)).MoveToOuterDisposeScope();
        return (zt, za, zv);
    }

    private static Tensor WithOne(Tensor z) => nn.functional.pad(z, [0, 1], value: 1.0);
}
