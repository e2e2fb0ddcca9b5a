namespace LRCMT.Training;

/// <summary>
/// Who decides the native heap's policy, and when the library may apply <see cref="HeapPolicy.Inference"/> by itself
/// (the rules <see cref="NativeHeap"/> documents): once, at the first CPU forward of one of its text encoders that runs
/// for inference (eval mode, gradients off), unless the process opted out, a caller chose a policy, or training was
/// seen first — an encoder's forward in training mode with gradients, or a <see cref="Trainer"/> starting. Kept apart
/// from the process-wide state so the rules can be tested without changing the test process's heap.
/// </summary>
internal sealed class HeapPolicyChoice(Func<HeapPolicy, bool> apply, bool automatic)
{
    private readonly object _gate = new();
    private volatile bool _decided; // a caller chose, training was seen, or the automatic policy was applied: nothing happens by itself any more

    /// <summary>The policy applied last (<see cref="HeapPolicy.Default"/> until one is).</summary>
    public HeapPolicy Current { get; private set; } = HeapPolicy.Default;

    /// <summary>A caller applies <paramref name="policy"/> (any value, <see cref="HeapPolicy.Default"/> too, is a choice),
    /// the standard way or through <paramref name="how"/> (a variant of it, e.g. another mmap threshold).</summary>
    public bool Choose(HeapPolicy policy, Func<bool>? how = null)
    {
        lock (_gate)
        {
            _decided = true;
            bool applied = how is null ? apply(policy) : how();
            if (applied && policy != HeapPolicy.Default) Current = policy;
            return applied;
        }
    }

    /// <summary>Training starts (a <see cref="Trainer"/> run): later evaluation passes must not switch the heap to inference.</summary>
    public void TrainingStarted()
    {
        lock (_gate) _decided = true;
    }

    /// <summary>A library text encoder runs a forward pass.</summary>
    /// <returns>True when this call applied <see cref="HeapPolicy.Inference"/>.</returns>
    public bool EncoderForward(bool training, bool gradients, bool onCpu)
    {
        if (_decided || !onCpu) return false;
        lock (_gate)
        {
            if (_decided) return false;
            if (training && gradients)
            {
                _decided = true;
                return false;
            }
            if (training || gradients || !automatic) return false;
            _decided = true;
            if (!apply(HeapPolicy.Inference)) return false;
            Current = HeapPolicy.Inference;
            return true;
        }
    }
}
