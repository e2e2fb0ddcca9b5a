namespace LRCMT.Training;

/// <summary>
/// Who decides the native heap's policy, and when the library may apply <see cref="HeapPolicy.Inference"/> by itself
/// (the rules <see cref="NativeHeap"/> documents): once, at the first CPU forward of one of its text encoders that runs
/// for inference (eval mode, gradients off), unless the process opted out, a caller chose a policy, or training was
/// seen first — an encoder's forward in training mode with gradients, or a <see cref="Trainer"/> starting. Kept apart
/// from the process-wide state so the rules can be tested without changing the test process's heap.
/// </summary>
/// <remarks>
/// The inference policy works best when it is in force before the weights are allocated (measured: applied at the first
/// forward, after the model was loaded under glibc's default heap, the heap takes 15–30 forwards to settle, with
/// bursts of hundreds of page faults; applied before loading, it settles at once). So while nothing is decided, building
/// or loading a library encoder <em>prepares</em> the heap — its first half, no block in its own mapping, so the weights and the
/// loader's temporaries land in the heap — and the first forward then either completes the policy (CPU inference) or
/// undoes the preparation (training first, a forward off the CPU, a <see cref="Trainer"/> run that applies no policy, a
/// caller's <see cref="HeapPolicy.Default"/>).
/// </remarks>
/// <param name="apply">Applies a policy to the heap; false when it could not (not glibc).</param>
/// <param name="prepare">True: keep new blocks out of their own mappings (the preparation); false: undo it.</param>
/// <param name="automatic">False when the process opted out (<see cref="NativeHeap.Variable"/>).</param>
internal sealed class HeapPolicyChoice(Func<HeapPolicy, bool> apply, Action<bool> prepare, bool automatic)
{
    private readonly object _gate = new();
    private volatile bool _decided; // a caller chose, training was seen, or the automatic policy was applied: nothing happens by itself any more
    private bool _prepared;         // an encoder was built while nothing was decided: the heap is prepared for the inference policy
    private bool _callerChose;      // Choose ran: the library's automatic choices (not an explicit trainer option) leave the heap alone

    /// <summary>The policy applied last (<see cref="HeapPolicy.Default"/> until one is; a prepared heap is still the default).</summary>
    public HeapPolicy Current { get; private set; } = HeapPolicy.Default;

    /// <summary>A caller applies <paramref name="policy"/> (any value, <see cref="HeapPolicy.Default"/> too, is a choice),
    /// the standard way or through <paramref name="how"/> (a variant of it, e.g. another mmap threshold).</summary>
    public bool Choose(HeapPolicy policy, Func<bool>? how = null)
    {
        lock (_gate)
        {
            _decided = true;
            _callerChose = true;
            // The default keeps glibc's own heap, so a preparation is undone; the other policies set every option it touched.
            if (policy == HeapPolicy.Default) Unprepare();
            _prepared = false;
            bool applied = how is null ? apply(policy) : how();
            if (applied && policy != HeapPolicy.Default) Current = policy;
            return applied;
        }
    }

    /// <summary>
    /// A <see cref="Trainer"/> run starts with <paramref name="policy"/>, its own choice for this run (null: none), which
    /// later evaluation passes never switch. <see cref="HeapPolicy.Training"/> is always applied (the trainer's option
    /// asks for it); <see cref="HeapPolicy.Inference"/>, which the trainer asks for when the encoder is frozen, only while
    /// no caller chose a policy and the process did not opt out; otherwise a preparation is undone, as with null.
    /// </summary>
    /// <returns>The policy applied, or null.</returns>
    public HeapPolicy? TrainingRun(HeapPolicy? policy)
    {
        lock (_gate)
        {
            _decided = true;
            if (policy == HeapPolicy.Training || (policy == HeapPolicy.Inference && automatic && !_callerChose))
            {
                _prepared = false; // both policies set every option the preparation touched
                if (!apply(policy.Value)) return null;
                Current = policy.Value;
                return policy;
            }
            Unprepare();
            return null;
        }
    }

    /// <summary>A library text encoder is being built or loaded (before its weights exist): prepares the heap while nothing is decided.</summary>
    /// <returns>True when this call prepared the heap.</returns>
    public bool EncoderLoading()
    {
        if (_decided || !automatic) return false;
        lock (_gate)
        {
            if (_decided || _prepared) return false;
            _prepared = true;
            prepare(true);
            return true;
        }
    }

    /// <summary>A library text encoder runs a forward pass.</summary>
    /// <returns>True when this call applied <see cref="HeapPolicy.Inference"/>.</returns>
    public bool EncoderForward(bool training, bool gradients, bool onCpu)
    {
        if (_decided) return false;
        lock (_gate)
        {
            if (_decided) return false;
            if (!onCpu)
            {
                // glibc's heap does not hold these tensors: the preparation would only change the host's other allocations.
                Unprepare();
                return false;
            }
            if (training && gradients)
            {
                _decided = true;
                Unprepare();
                return false;
            }
            if (training || gradients || !automatic) return false;
            _decided = true;
            _prepared = false;
            if (!apply(HeapPolicy.Inference)) return false;
            Current = HeapPolicy.Inference;
            return true;
        }
    }

    private void Unprepare()
    {
        if (!_prepared) return;
        _prepared = false;
        prepare(false);
    }
}
