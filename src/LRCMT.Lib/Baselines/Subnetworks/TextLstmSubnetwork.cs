using LRCMT.Fusion;
using LRCMT.Regularization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Baselines;

/// <summary>
/// TFN's spoken-language embedding subnetwork: an LSTM over the text states, its state after each sample's last real
/// token (padded tokens are skipped), dropout, then two ReLU layers.
/// </summary>
internal sealed class TextLstmSubnetwork : Module<MaskedSequence, Tensor>
{
    private readonly MaskedLstm rnn;
    private Module<Tensor, Tensor> linear_1;
    private Module<Tensor, Tensor> linear_2;

    private readonly double _dropout;

    public TextLstmSubnetwork(long inputWidth, UnimodalSubnetworkSettings settings) : base(nameof(TextLstmSubnetwork))
    {
        _dropout = settings.Dropout;
        rnn = new MaskedLstm(inputWidth, settings.TextHidden);
        linear_1 = Linear(settings.TextHidden, settings.TextOut);
        linear_2 = Linear(settings.TextOut, settings.TextOut);
        RegisterComponents();
    }

    /// <summary>[batch, seq, inputWidth] with mask → z<sub>t</sub> [batch, TextOut].</summary>
    public override Tensor forward(MaskedSequence text)
    {
        using var scope = NewDisposeScope();
        var last = rnn.call(text);
        var hidden = functional.relu(linear_1.call(MaskDropout.Apply(last, _dropout, training)));
        return functional.relu(linear_2.call(hidden)).MoveToOuterDisposeScope();
    }
}
