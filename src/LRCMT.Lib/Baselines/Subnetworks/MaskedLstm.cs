using LRCMT.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// A one-layer LSTM over a padded batch that returns each sample's state after its last real step: padded steps leave
/// the state unchanged, so any mask (not only trailing padding) gives what running the real steps alone gives, and a
/// sample without real steps keeps the zero state. Parameters are named and laid out as PyTorch's <c>nn.LSTM</c>
/// (<c>weight_ih_l0</c> [4H, in], <c>weight_hh_l0</c> [4H, H], <c>bias_ih_l0</c>, <c>bias_hh_l0</c>; gates in the
/// order input, forget, cell, output), so its state dicts load here unchanged.
/// </summary>
/// <remarks>
/// Written out rather than TorchSharp's native <c>LSTM</c>: with gradients off, the native CPU kernel of the libtorch
/// TorchSharp 0.107 ships returns other values than the same weights give with gradients on (and than PyTorch gives),
/// so evaluation would not compute the model that was trained. The step loop costs little at MSA's sequence lengths.
/// </remarks>
internal sealed class MaskedLstm : nn.Module<MaskedSequence, Tensor>
{
    private readonly Parameter weight_ih_l0;
    private readonly Parameter weight_hh_l0;
    private readonly Parameter bias_ih_l0;
    private readonly Parameter bias_hh_l0;

    private readonly long _hidden;

    public MaskedLstm(long inputSize, long hiddenSize) : base(nameof(MaskedLstm))
    {
        _hidden = hiddenSize;
        // PyTorch's initialisation: every weight and bias uniform in ±1/√H.
        var bound = 1.0 / Math.Sqrt(hiddenSize);
        weight_ih_l0 = new Parameter(empty(4 * hiddenSize, inputSize).uniform_(-bound, bound));
        weight_hh_l0 = new Parameter(empty(4 * hiddenSize, hiddenSize).uniform_(-bound, bound));
        bias_ih_l0 = new Parameter(empty(4 * hiddenSize).uniform_(-bound, bound));
        bias_hh_l0 = new Parameter(empty(4 * hiddenSize).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>[batch, seq, in] with mask → [batch, H], the state after each sample's last real step.</summary>
    public override Tensor forward(MaskedSequence sequence)
    {
        var (values, mask) = sequence;
        using var scope = NewDisposeScope();
        var real = mask.to(ScalarType.Bool).unsqueeze(2);
        // masked_fill: padding may hold inf/NaN, which must not reach the input projection of any step.
        var inputs = values.masked_fill(real.logical_not(), Zero).matmul(weight_ih_l0.t()).add(bias_ih_l0, One).add(bias_hh_l0, One);
        var h = zeros(values.shape[0], _hidden, dtype: values.dtype, device: values.device);
        var c = zeros_like(h);
        var recurrent = weight_hh_l0.t();
        for (long t = 0; t < values.shape[1]; t++)
        {
            var gates = inputs.select(1, t).add(h.matmul(recurrent), One);
            var chunks = gates.chunk(4, 1);
            var cNext = (sigmoid(chunks[1]) * c).add(sigmoid(chunks[0]) * tanh(chunks[2]), One);
            var hNext = sigmoid(chunks[3]) * tanh(cNext);
            var step = real.select(1, t);
            c = where(step, cNext, c);
            h = where(step, hNext, h);
        }
        return h.MoveToOuterDisposeScope();
    }
}
