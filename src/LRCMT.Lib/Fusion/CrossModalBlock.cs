using LRCMT.Errors;
using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Fusion;

/// <summary>
/// One cross-modal transformer layer in the MulT sense: the target sequence queries the source sequence.
/// Pre-LayerNorm on both the target and the source, cross-attention, residual, then a ReLU feed-forward
/// sub-layer with its own pre-LayerNorm and residual. Target and source may have different lengths; padded
/// source positions are excluded through the key-padding mask. Passing the same sequence as target and source
/// makes it a self-attention layer.
/// </summary>
/// <remarks>
/// Unlike MulT, which normalises query and keys with one shared LayerNorm, the target and the source have
/// their own (<c>target_norm</c>, <c>source_norm</c>): they come from different modalities with different
/// statistics, and the cost is 2·width parameters.
/// </remarks>
public sealed class CrossModalBlock : Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly MultiheadCrossAttention cross_attn;
    private readonly LayerNorm target_norm;
    private readonly LayerNorm source_norm;
    private readonly LayerNorm ffn_norm;
    private Module<Tensor, Tensor> fc1;
    private Module<Tensor, Tensor> fc2;

    private readonly long _width;
    private readonly double _reluDropout;
    private readonly double _residualDropout;

    /// <summary>Creates the layer; throws <see cref="InvalidConfigurationException"/> for unusable settings.</summary>
    public CrossModalBlock(CrossModalSettings settings) : this(settings, null) { }

    /// <param name="settings">The layer's settings.</param>
    /// <param name="device">Where the weights are created (<c>meta</c>: shapes only).</param>
    internal CrossModalBlock(CrossModalSettings settings, Device? device) : base(nameof(CrossModalBlock))
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _width = settings.Width;
        _reluDropout = settings.ReluDropout;
        _residualDropout = settings.ResidualDropout;
        cross_attn = new MultiheadCrossAttention(settings.Width, settings.Heads, settings.AttentionDropout, settings.RelativeTimeBias, device);
        target_norm = LayerNorm(settings.Width, device: device);
        source_norm = LayerNorm(settings.Width, device: device);
        ffn_norm = LayerNorm(settings.Width, device: device);
        fc1 = Linear(settings.Width, settings.Width * settings.FeedForwardMultiplier, device: device);
        fc2 = Linear(settings.Width * settings.FeedForwardMultiplier, settings.Width, device: device);
        RegisterComponents();
    }

    /// <summary>Runs the layer.</summary>
    /// <param name="target">Queries [batch, targetLen, width].</param>
    /// <param name="source">Keys and values [batch, sourceLen, width].</param>
    /// <param name="sourceMask">[batch, sourceLen] (true = real), or null when the source has no padding.</param>
    /// <returns>The updated target [batch, targetLen, width].</returns>
    public override Tensor forward(Tensor target, Tensor source, Tensor? sourceMask) => Forward(target, source, sourceMask, null);

    // The encoder's entry: the same block, plus the |Δt| table of the relative-time bias (null when it is off).
    internal Tensor Forward(Tensor target, Tensor source, Tensor? sourceMask, Tensor? timeDistance)
    {
        CheckShapes(target, source, sourceMask);
        using var scope = NewDisposeScope();

        var attended = timeDistance is null
            ? cross_attn.call(target_norm.call(target), source_norm.call(source), sourceMask)
            : cross_attn.Attend(target_norm.call(target), source_norm.call(source), sourceMask, timeDistance);
        var x = target.add(MaskDropout.Apply(attended, _residualDropout, training), One);

        var hidden = functional.relu(fc1.call(ffn_norm.call(x)));
        hidden = MaskDropout.Apply(hidden, _reluDropout, training);
        var updated = x.add(MaskDropout.Apply(fc2.call(hidden), _residualDropout, training), One);
        return updated.MoveToOuterDisposeScope();
    }

    private void CheckShapes(Tensor target, Tensor source, Tensor? sourceMask)
    {
        if (target.dim() != 3 || target.shape[2] != _width)
            throw new ShapeMismatchException("cross-modal target", $"[batch, seq, {_width}]", target.shape);
        if (source.dim() != 3 || source.shape[2] != _width || source.shape[0] != target.shape[0])
            throw new ShapeMismatchException("cross-modal source", $"[{target.shape[0]}, seq, {_width}]", source.shape);
        if (sourceMask is not null && (sourceMask.dim() != 2 || sourceMask.shape[0] != source.shape[0] || sourceMask.shape[1] != source.shape[1]))
            throw new ShapeMismatchException("cross-modal source mask", $"[{source.shape[0]}, {source.shape[1]}]", sourceMask.shape);
    }
}
