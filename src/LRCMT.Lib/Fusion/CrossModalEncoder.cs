using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Fusion;

/// <summary>
/// A stack of <see cref="CrossModalBlock"/>s in which a target modality repeatedly attends to one source
/// modality (MulT's cross-modal transformer "source → target"). Both inputs are scaled by √width, optionally
/// given sinusoidal positions and dropped out once; the source then serves as memory for every layer, and a
/// final LayerNorm closes the pre-norm stack.
/// </summary>
public sealed class CrossModalEncoder : Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<CrossModalBlock> layers;
    private readonly LayerNorm layer_norm;

    private readonly CrossModalSettings _settings;
    private readonly double _inputScale;

    /// <summary>Creates <see cref="CrossModalSettings.Layers"/> layers of the given settings.</summary>
    public CrossModalEncoder(CrossModalSettings settings) : this(settings, null) { }

    /// <param name="settings">The layers' settings.</param>
    /// <param name="device">Where the weights are created (<c>meta</c>: shapes only).</param>
    internal CrossModalEncoder(CrossModalSettings settings, Device? device) : base(nameof(CrossModalEncoder))
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings with { }; // a copy: the caller may change its instance later
        // MulT scales embeddings by √d so that positions (unit amplitude) do not drown small projected features.
        _inputScale = Math.Sqrt(settings.Width);
        layers = new ModuleList<CrossModalBlock>();
        for (var i = 0; i < settings.Layers; i++) layers.Add(new CrossModalBlock(settings, device));
        layer_norm = LayerNorm(settings.Width, device: device);
        RegisterComponents();
    }

    /// <summary>The settings this encoder was built with.</summary>
    public CrossModalSettings Settings => _settings with { };

    /// <summary>Runs the stack: the target attends to the source in every layer.</summary>
    /// <param name="target">Queries [batch, targetLen, width].</param>
    /// <param name="source">Memory [batch, sourceLen, width].</param>
    /// <param name="sourceMask">[batch, sourceLen] (true = real), or null when the source has no padding.</param>
    /// <returns>The target updated by the source [batch, targetLen, width].</returns>
    /// <remarks>With <see cref="CrossModalSettings.RelativeTimeBias"/> every target frame counts as real here; use
    /// <see cref="Attend"/> to give the target's mask too, so times are fractions of each clip's real length.</remarks>
    public override Tensor forward(Tensor target, Tensor source, Tensor? sourceMask) => Run(target, null, source, sourceMask);

    /// <summary>Runs the stack on masked sequences (convenience for composing fusion models).</summary>
    public Tensor Attend(MaskedSequence target, MaskedSequence source)
    {
        // Without the time bias the target's mask is not needed, and the call keeps this module's hooks running.
        return _settings.RelativeTimeBias
            ? Run(target.Values, target.Mask, source.Values, source.Mask)
            : call(target.Values, source.Values, source.Mask);
    }

    /// <summary>
    /// Runs the stack as a self-attention Transformer: in every layer the sequence attends to its own current states
    /// (MulT's per-modality self-attention stack), where <see cref="Attend"/> keeps the embedded source as the memory of
    /// every layer. Inputs are embedded as in <see cref="Attend"/>; padded positions are excluded as keys.
    /// </summary>
    /// <param name="sequence">States [batch, seq, width] with their mask.</param>
    /// <returns>The updated states [batch, seq, width].</returns>
    public Tensor SelfAttend(MaskedSequence sequence)
    {
        var (values, mask) = sequence;
        return Run(values, mask, values, mask, selfAttention: true);
    }

    private Tensor Run(Tensor target, Tensor? targetMask, Tensor source, Tensor? sourceMask, bool selfAttention = false)
    {
        using var scope = NewDisposeScope();
        var x = Embed(target);
        // Same tensor in, same tensor out: a self-attention stack should not embed (and drop out) twice.
        var memory = selfAttention || ReferenceEquals(source, target) ? x : Embed(source);
        var timeDistance = _settings.RelativeTimeBias
            ? RelativeTime.Distance(
                RelativeTime.FrameTimes(targetMask, target.shape[1], target.device),
                RelativeTime.FrameTimes(sourceMask, source.shape[1], source.device))
            : null;
        foreach (var layer in layers)
        {
            x = timeDistance is null ? layer.call(x, memory, sourceMask) : layer.Forward(x, memory, sourceMask, timeDistance);
            if (selfAttention) memory = x;
        }
        return layer_norm.call(x).MoveToOuterDisposeScope();
    }

    private Tensor Embed(Tensor x)
    {
        using Scalar inputScale = _inputScale;
        var scaled = x.mul(inputScale);
        if (_settings.UsePositions)
        {
            using var table = SinusoidalPositions.Table(x.shape[1], x.shape[2], x.device, x.dtype);
            scaled = scaled.add(table.unsqueeze(0), One);
        }
        return MaskDropout.Apply(scaled, _settings.EmbeddingDropout, training);
    }
}
