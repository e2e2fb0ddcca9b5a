using LRCMT.Fusion;
using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Baselines;

/// <summary>
/// TFN's spoken-language embedding subnetwork: an LSTM over the text states, its state at each sample's last real token,
/// dropout, then two ReLU layers. Padded tokens are zeroed before the LSTM; with trailing padding (what the tokenizers
/// and collators produce) the state at the last real token has seen exactly the real tokens.
/// </summary>
internal sealed class TextLstmSubnetwork : Module<MaskedSequence, Tensor>
{
    private readonly LSTM rnn;
    private Module<Tensor, Tensor> linear_1;
    private Module<Tensor, Tensor> linear_2;

    private readonly double _dropout;

    public TextLstmSubnetwork(long inputWidth, UnimodalSubnetworkSettings settings) : base(nameof(TextLstmSubnetwork))
    {
        _dropout = settings.Dropout;
        rnn = LSTM(inputWidth, settings.TextHidden, numLayers: 1, batchFirst: true);
        linear_1 = Linear(settings.TextHidden, settings.TextOut);
        linear_2 = Linear(settings.TextOut, settings.TextOut);
        RegisterComponents();
    }

    /// <summary>[batch, seq, inputWidth] with mask → z<sub>t</sub> [batch, TextOut].</summary>
    public override Tensor forward(MaskedSequence text)
    {
        using var scope = NewDisposeScope();
        var real = text.Mask.to(ScalarType.Bool);
        var input = text.Values.masked_fill(real.logical_not().unsqueeze(2), 0);
        var (states, _, _) = rnn.call(input, null);
        var last = LastRealState.Of(new MaskedSequence(states, real));
        var hidden = functional.relu(linear_1.call(MaskDropout.Apply(last, _dropout, training)));
        return functional.relu(linear_2.call(hidden)).MoveToOuterDisposeScope();
    }
}
