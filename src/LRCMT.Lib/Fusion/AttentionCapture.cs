using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Fusion;

/// <summary>
/// Records the cross-modal attention weights of a model's forward passes while it is active, for inspection and
/// plots (which source positions each target position attended to). Nothing is recorded, and nothing costs extra,
/// when no capture is active. Start one around inference, read <see cref="Records"/>, then dispose it:
/// <code>
/// using var capture = AttentionCapture.Start(model);
/// using (torch.no_grad()) model.call(batch);
/// foreach (var record in capture.Records) Console.WriteLine($"{record.Module}: {record.Weights.shape}");
/// </code>
/// The capture belongs to the thread (and async flow) that started it.
/// </summary>
public sealed class AttentionCapture : IDisposable
{
    private static readonly AsyncLocal<AttentionCapture?> Active = new();

    private readonly Dictionary<nn.Module, string> _names;
    private readonly List<AttentionRecord> _records = [];
    private readonly AttentionCapture? _previous;
    private bool _disposed;

    private AttentionCapture(Dictionary<nn.Module, string> names)
    {
        _names = names;
        _previous = Active.Value;
        Active.Value = this;
    }

    /// <summary>Starts recording the attention of <paramref name="model"/>'s cross-modal attention modules.</summary>
    /// <param name="model">Any module holding LRCMT fusion blocks (an <c>LRCMTModel</c>, a <see cref="CrossModalEncoder"/>…).</param>
    public static AttentionCapture Start(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var names = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.named_modules())
            if (module is MultiheadCrossAttention) names[module] = name;
        return new AttentionCapture(names);
    }

    /// <summary>What was recorded, in the order the modules ran.</summary>
    public IReadOnlyList<AttentionRecord> Records => _records;

    /// <summary>Whether a capture is on for <paramref name="module"/> (attention modules compute weights for it only then).</summary>
    internal static bool IsCapturing(nn.Module module)
        => Active.Value is { _disposed: false } capture && capture._names.ContainsKey(module);

    /// <summary>Called by the attention modules: keeps a detached CPU copy of <paramref name="weights"/> if a capture is on.</summary>
    internal static void Offer(nn.Module module, Tensor weights)
    {
        var capture = Active.Value;
        if (capture is null || capture._disposed || !capture._names.TryGetValue(module, out var name)) return;
        var copy = weights.detach().to(ScalarType.Float32).cpu().clone();
        copy.DetachFromDisposeScope();
        capture._records.Add(new AttentionRecord(name, copy));
    }

    /// <summary>Stops recording and frees the recorded tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(Active.Value, this)) Active.Value = _previous;
        foreach (var record in _records) record.Weights.Dispose();
        _records.Clear();
    }
}

/// <summary>One attention module's weights from one forward pass.</summary>
/// <param name="Module">The module's path in the model, e.g. <c>interaction.text_from_memory.layers.0.cross_attn</c>.</param>
/// <param name="Weights">[batch, heads, targetLen, sourceLen] after softmax and masking (padded keys have weight 0); owned by the capture.</param>
public sealed record AttentionRecord(string Module, Tensor Weights);
