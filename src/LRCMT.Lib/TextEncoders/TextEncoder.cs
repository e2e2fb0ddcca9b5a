using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// A pretrained text encoder as LRCMT uses it: token ids and attention mask in, contextual token states out.
/// <c>BertModel</c> is the built-in implementation; derive from this to plug in another encoder.
/// </summary>
/// <remarks>
/// Forward arguments: <c>inputIds</c> [batch, seq] int64, <c>attentionMask</c> [batch, seq] (1/true = real token),
/// <c>tokenTypeIds</c> [batch, seq] int64 or null (all zeros).
/// </remarks>
public abstract class TextEncoder : nn.Module<Tensor, Tensor, Tensor?, TextEncoderOutput>
{
    /// <summary>Creates the module with its TorchSharp name.</summary>
    protected TextEncoder(string name) : base(name) { }

    /// <summary>Width of each token state (the last dimension of <see cref="TextEncoderOutput.LastHiddenState"/>).</summary>
    public abstract int HiddenSize { get; }
}

/// <summary>What a <see cref="TextEncoder"/> returns.</summary>
/// <param name="LastHiddenState">Token states [batch, seq, hidden].</param>
/// <param name="PooledOutput">Sentence vector [batch, hidden] (BERT's pooler), or null when the encoder has none.</param>
public sealed record TextEncoderOutput(Tensor LastHiddenState, Tensor? PooledOutput);
