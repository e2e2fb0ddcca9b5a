using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Baselines;

/// <summary>
/// MAG, the multimodal adaptation gate (Rahman et al., 2020, eqs. 1–6), for token states Z and the acoustic and visual
/// frames A, V lined up with the tokens:
/// g<sub>v</sub> = ReLU(W<sub>gv</sub>[Z; V] + b<sub>v</sub>), g<sub>a</sub> = ReLU(W<sub>ga</sub>[Z; A] + b<sub>a</sub>),
/// H = g<sub>v</sub> ∘ (W<sub>v</sub>V) + g<sub>a</sub> ∘ (W<sub>a</sub>A) + b<sub>H</sub>,
/// α = min(β‖Z‖₂ / ‖H‖₂, 1) per token, and the output is dropout(LayerNorm(Z + αH)).
/// </summary>
internal sealed class MultimodalAdaptationGate : Module<Tensor, Tensor, Tensor, Tensor>
{
    // Keeps α finite where H vanishes (then αH is 0 whatever α is).
    private const double NormFloor = 1e-6;

    private Module<Tensor, Tensor> visual_gate;
    private Module<Tensor, Tensor> acoustic_gate;
    private Module<Tensor, Tensor> visual_shift;
    private Module<Tensor, Tensor> acoustic_shift;
    private readonly Parameter shift_bias;
    private readonly LayerNorm layer_norm;

    private readonly double _beta;
    private readonly double _dropout;

    public MultimodalAdaptationGate(long textWidth, long acousticFeatures, long visualFeatures, double beta, double dropout)
        : base(nameof(MultimodalAdaptationGate))
    {
        _beta = beta;
        _dropout = dropout;
        visual_gate = Linear(textWidth + visualFeatures, textWidth);
        acoustic_gate = Linear(textWidth + acousticFeatures, textWidth);
        visual_shift = Linear(visualFeatures, textWidth, hasBias: false);
        acoustic_shift = Linear(acousticFeatures, textWidth, hasBias: false);
        shift_bias = new Parameter(zeros(textWidth));
        layer_norm = LayerNorm(textWidth);
        RegisterComponents();
    }

    /// <param name="text">Token states Z [batch, seq, width] (any float dtype; the gate computes in its own).</param>
    /// <param name="acoustic">A [batch, seq, acousticFeatures], one row per token.</param>
    /// <param name="visual">V [batch, seq, visualFeatures], one row per token.</param>
    /// <returns>The shifted states, in <paramref name="text"/>'s dtype.</returns>
    public override Tensor forward(Tensor text, Tensor acoustic, Tensor visual)
    {
        using var scope = NewDisposeScope();
        var z = text.to(shift_bias.dtype);
        var gateV = functional.relu(visual_gate.call(cat([z, visual], 2)));
        var gateA = functional.relu(acoustic_gate.call(cat([z, acoustic], 2)));
        // Written with held Scalars rather than operators on numbers (RootedScalars says why).
        var shift = gateV.mul(visual_shift.call(visual)).add(gateA.mul(acoustic_shift.call(acoustic)), One).add(shift_bias, One);

        using Scalar beta = _beta, floor = NormFloor, cap = 1.0;
        var alpha = z.norm(-1, keepdim: true).mul(beta).div(shift.norm(-1, keepdim: true).clamp_min(floor)).clamp_max(cap);
        var shifted = MaskDropout.Apply(layer_norm.call(z.add(alpha.mul(shift), One)), _dropout, training);
        return shifted.to(text.dtype).MoveToOuterDisposeScope();
    }
}
