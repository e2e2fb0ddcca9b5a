namespace LRCMT.Training;

/// <summary>
/// How glibc's <c>malloc</c>, where libtorch keeps CPU tensors, serves a phase of work (<see cref="NativeHeap.Apply"/>).
/// Training and inference want opposite things: a training step frees and reallocates gigabytes in an order that never
/// quite repeats, so a heap that keeps freed blocks fragments and grows; a forward pass allocates the same blocks in the
/// same order every time, so a heap that hands freed blocks back to the system pays page faults (the kernel maps and
/// zeroes the pages again) on every call.
/// </summary>
public enum HeapPolicy
{
    /// <summary>glibc's own behaviour, or whatever was set before: nothing is changed.</summary>
    Default,

    /// <summary>
    /// For long training runs that update the whole encoder: blocks of 128 KiB and more get their own mappings, which go
    /// back to the system when freed, so the heap stays flat from step to step (what <see cref="NativeHeap.LimitGrowth"/>
    /// does; costs page faults).
    /// </summary>
    Training,

    /// <summary>
    /// For inference (evaluation, serving) and training with a frozen encoder: every block comes from the heap and freed
    /// memory stays in the process, so repeated forwards (and steps) reuse the same pages. The process keeps its largest
    /// forward's (or step's) memory until it exits. The library applies it by itself at the first CPU inference forward
    /// of its encoders, and a <see cref="Trainer"/> run whose encoder does not train, unless something else was chosen
    /// (the rules: <see cref="NativeHeap"/>'s remarks).
    /// </summary>
    Inference,
}
