using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// A stack of <see cref="ManagedTransformerEncoderLayer"/>s with the parameter names of TorchSharp's native
/// <c>nn.TransformerEncoder</c> (<c>layers.0.self_attn.in_proj_weight</c>, …) and its results.
/// </summary>
internal sealed class ManagedTransformerEncoder : nn.Module<Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ModuleList<ManagedTransformerEncoderLayer> layers;

    /// <summary>Stacks the given layers (they are owned by the encoder from now on).</summary>
    public ManagedTransformerEncoder(IEnumerable<ManagedTransformerEncoderLayer> encoderLayers) : base(nameof(ManagedTransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(encoderLayers);
        layers = new ModuleList<ManagedTransformerEncoderLayer>(encoderLayers.ToArray());
        if (layers.Count == 0) throw new ArgumentException("An encoder needs at least one layer.", nameof(encoderLayers));
        RegisterComponents();
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<ManagedTransformerEncoderLayer> Layers => layers.ToList();

    /// <inheritdoc/>
    public override Tensor forward(Tensor src) => call(src, null, null);

    /// <summary>Runs every layer with the same attention mask.</summary>
    public Tensor call(Tensor src, Tensor? src_mask) => call(src, src_mask, null);

    /// <summary>Runs every layer with the same attention mask and key padding mask.</summary>
    public Tensor call(Tensor src, Tensor? src_mask, Tensor? src_key_padding_mask)
    {
        using var scope = NewDisposeScope();
        var x = src;
        foreach (var layer in layers) x = layer.call(x, src_mask, src_key_padding_mask);
        return (ReferenceEquals(x, src) ? x.alias() : x).MoveToOuterDisposeScope();
    }
}
