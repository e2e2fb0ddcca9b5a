using System.Runtime.InteropServices;
using LRCMT.Errors;
using Microsoft.Extensions.Logging;
using LRCMT.Configuration;

namespace LRCMT.Training;

/// <summary>
/// The native heap where libtorch keeps CPU tensors: on Linux, glibc's <c>malloc</c>. By default glibc raises its
/// mmap threshold each time a large block is freed (up to 32 MiB), after which tensors of a few megabytes come from
/// the heap instead of their own mappings and freed ones stay in the process. A training step frees and reallocates
/// gigabytes in an order that never quite repeats, so the heap fragments: full fine-tuning of a bert-base-sized encoder
/// (batch 8 × 64) grew by ~150 MB per step without bound (8.5 GB after 45 steps) while its live tensors stayed at
/// 1.9 GB. With a fixed threshold, new blocks at or above it get their own mappings, returned to the system when freed;
/// call it at start-up, before the heap has grown.
/// </summary>
/// <remarks>
/// <para>The settings are process-wide (they change how every native allocation of the process is served). The library
/// applies one by itself in two cases (a <see cref="Trainer"/> run is the second, below): <see cref="HeapPolicy.Inference"/>, once, the first time one of its text
/// encoders (<c>BertModel</c>, <c>RobertaModel</c>, and so every model built on them) runs a CPU forward pass for
/// inference — eval mode with gradients off — provided that nothing chose a policy before: no call to
/// <see cref="Apply"/> or <see cref="LimitGrowth"/> (<c>Apply(HeapPolicy.Default)</c> keeps glibc's heap and is a
/// choice too), no training forward of a library encoder and no <see cref="Trainer"/> run in the process, and the
/// environment variable <c>LRCMT_NATIVE_HEAP</c> is not <c>manual</c>. Without it every forward pays thousands of page
/// faults and runs up to ~2.8× slower (docs/performance.md); its price is that the process keeps the memory of its
/// largest forward pass until it exits. <see cref="Logger"/> receives a line when it happens; <see cref="Current"/> tells.
/// Under the same conditions, building or loading such an encoder prepares the heap a step earlier, before the weights
/// exist: no
/// new block gets its own mapping, so the weights and the loader's temporaries lie in the heap the forwards then reuse
/// (applied only at the first forward the heap took 15–30 forwards to settle). The first forward completes the policy
/// (CPU inference) or undoes the preparation (training, a forward off the CPU, a <see cref="Trainer"/> run, or
/// <c>Apply(HeapPolicy.Default)</c>), after which glibc serves blocks as its own dynamic rule ends up doing once large
/// blocks were freed (blocks of 32 MiB and more in their own mappings, free memory above 64 MiB at the top of the heap
/// returned).</para>
/// <para><see cref="Trainer"/> applies <see cref="HeapPolicy.Training"/> when the encoder's own weights train, and
/// <see cref="HeapPolicy.Inference"/> when they do not while no caller chose a policy and the process did not opt out
/// (<see cref="TrainerOptions.LimitNativeHeapGrowth"/> can say otherwise); anyone may call <see cref="Apply"/> at any
/// time; the last call wins. The training policy costs page faults: a block served by its own mapping is zero-filled again
/// every time it is allocated (docs/performance.md has the measured price). Off Linux, or with a C library other than
/// glibc (musl), the methods do nothing and return false.</para>
/// </remarks>
public static class NativeHeap
{
    /// <summary>glibc's own initial mmap threshold, 128 KiB: fixing it there turns off the dynamic raise.</summary>
    public const int DefaultMmapThreshold = 128 * 1024;

    /// <summary>glibc's largest accepted threshold on 64-bit systems, 32 MiB.</summary>
    public const int MaxMmapThreshold = 32 * 1024 * 1024;

    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int M_MMAP_MAX = -4;

    /// <summary>The environment variable that, set to <c>manual</c>, keeps the library from applying a policy by itself.</summary>
    public const string Variable = "LRCMT_NATIVE_HEAP";

    private static readonly Lazy<Glibc?> Library = new(Glibc.TryLoad);

    private static readonly HeapPolicyChoice Choice = new(Set, Prepare,
        !string.Equals(Environment.GetEnvironmentVariable(Variable), "manual", StringComparison.OrdinalIgnoreCase));

    /// <summary>The policy applied last in this process — by <see cref="Apply"/>, <see cref="LimitGrowth"/> or by the library
    /// itself (see the remarks); <see cref="HeapPolicy.Default"/> while glibc's own behaviour is in force.</summary>
    public static HeapPolicy Current => Choice.Current;

    /// <summary>Receives one information line when the library applies a policy by itself (null: no log).</summary>
    public static ILogger? Logger { get; set; }

    /// <summary>True when the process runs on glibc, so <see cref="LimitGrowth"/> and <see cref="Trim"/> take effect.</summary>
    public static bool IsSupported => Library.Value is not null;

    /// <summary>
    /// Fixes glibc's mmap threshold at <paramref name="mmapThresholdBytes"/> and stops it from rising: a block of that
    /// size or more that no free heap chunk can hold gets its own mapping, which goes back to the system when freed, so
    /// the heap stops growing. Memory the heap holds already stays until it is reused. Safe to call more than once.
    /// </summary>
    /// <returns>True when the setting was applied; false off glibc.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is not in 1 … <see cref="MaxMmapThreshold"/> bytes.</exception>
    public static bool LimitGrowth(int mmapThresholdBytes = DefaultMmapThreshold)
    {
        if (mmapThresholdBytes is < 1 or > MaxMmapThreshold)
            throw new ArgumentOutOfRangeException(nameof(mmapThresholdBytes), mmapThresholdBytes,
                $"the mmap threshold must be 1 to {MaxMmapThreshold} bytes (glibc refuses larger values).");
        return Choice.Choose(HeapPolicy.Training, () => Library.Value is { } libc && SetTraining(libc, mmapThresholdBytes));
    }

    // glibc's own limit on simultaneous mappings (65536); the inference policy sets it to 0, the training one restores it.
    private const int DefaultMmapMax = 65536;

    // glibc's initial trim threshold (128 KiB): free memory above it at the top of the heap goes back to the system.
    private const int DefaultTrimThreshold = 128 * 1024;

    /// <summary>
    /// Sets how glibc serves libtorch's CPU tensors for the phase that follows (process-wide; see
    /// <see cref="HeapPolicy"/> for what each does and docs/performance.md for the measured effect). Call it when the
    /// phase changes, e.g. <see cref="HeapPolicy.Inference"/> before serving predictions and
    /// <see cref="HeapPolicy.Training"/> before full fine-tuning. <see cref="HeapPolicy.Default"/> leaves the heap as it is
    /// (and, like every call, keeps the library from choosing a policy by itself later).
    /// </summary>
    /// <returns>True when the policy was applied (or is <see cref="HeapPolicy.Default"/>); false off glibc.</returns>
    /// <exception cref="InvalidConfigurationException">The policy is not one of the named values.</exception>
    public static bool Apply(HeapPolicy policy)
    {
        SettingRules.ThrowIf("native heap policy", SettingRules.Defined("policy", policy));
        return Choice.Choose(policy);
    }

    /// <summary>A library text encoder runs a forward pass (see the remarks: the first CPU one for inference may apply
    /// <see cref="HeapPolicy.Inference"/>).</summary>
    internal static void EncoderForward(bool training, bool gradients, bool onCpu)
    {
        if (Choice.EncoderForward(training, gradients, onCpu))
            Logger?.LogInformation("LRCMT applied the native heap policy {Policy} for inference (process-wide; keeps freed memory for the next forward pass). Call NativeHeap.Apply before the first forward, or set {Variable}=manual, to choose otherwise.",
                HeapPolicy.Inference, Variable);
    }

    /// <summary>A library text encoder is being built or loaded, before its weights or the loader's temporaries exist (see
    /// the remarks: while nothing is decided, the heap is prepared for the inference policy).</summary>
    internal static void EncoderLoading() => Choice.EncoderLoading();

    /// <summary>A <see cref="Trainer"/> starts training with its own choice of policy for the run, or null (see <see cref="HeapPolicyChoice.TrainingRun"/>).</summary>
    internal static void TrainingStarted(HeapPolicy? policy)
    {
        if (Choice.TrainingRun(policy) == HeapPolicy.Inference)
            Logger?.LogInformation("LRCMT applied the native heap policy {Policy} for a training run whose encoder does not train (process-wide; keeps freed memory for the next step). Call NativeHeap.Apply before training, set {Variable}=manual, or set TrainerOptions.LimitNativeHeapGrowth, to choose otherwise.",
                HeapPolicy.Inference, Variable);
    }

    private static bool Set(HeapPolicy policy)
    {
        if (Library.Value is not { } libc) return false;
        return policy switch
        {
            HeapPolicy.Training => SetTraining(libc, DefaultMmapThreshold),
            // No block gets its own mapping, and the heap keeps what is freed: the next forward reuses the same pages
            // instead of having the kernel map and zero them again.
            HeapPolicy.Inference => libc.SetOption(M_MMAP_MAX, 0) & libc.SetOption(M_TRIM_THRESHOLD, int.MaxValue),
            _ => true,
        };
    }

    // The inference policy's first half, set when an encoder is built: no block gets its own mapping, so the weights and
    // the loader's temporaries are laid out in the heap that later forwards reuse (applied only at the first forward, the
    // policy meets weights scattered over mappings and a heap that takes 15-30 forwards to settle; docs/performance.md).
    // Undone (training first, or a forward off the CPU) by allowing mappings again at the thresholds glibc's own dynamic
    // rule ends at once large blocks were freed (32 MiB, trim at twice that): M_MMAP_MAX turned glibc's dynamic rule
    // off, and a fixed 128 KiB threshold would cost a LoRA step the page faults of HeapPolicy.Training.
    private static void Prepare(bool prepare)
    {
        if (Library.Value is not { } libc) return;
        if (prepare) libc.SetOption(M_MMAP_MAX, 0);
        else
        {
            libc.SetOption(M_MMAP_THRESHOLD, MaxMmapThreshold);
            libc.SetOption(M_TRIM_THRESHOLD, 2 * MaxMmapThreshold);
            libc.SetOption(M_MMAP_MAX, DefaultMmapMax);
        }
    }

    // Also undoes the inference policy (mappings allowed again, free memory at the top of the heap returned).
    private static bool SetTraining(Glibc libc, int mmapThresholdBytes) =>
        libc.SetOption(M_MMAP_THRESHOLD, mmapThresholdBytes) & libc.SetOption(M_MMAP_MAX, DefaultMmapMax)
        & libc.SetOption(M_TRIM_THRESHOLD, DefaultTrimThreshold);

    /// <summary>Returns the free parts of the heap to the system now (glibc's <c>malloc_trim(0)</c>).</summary>
    /// <returns>True when glibc released memory; false when there was nothing to release or the process is not on glibc.</returns>
    public static bool Trim() => Library.Value is { } libc && libc.Trim();

    /// <summary>The two glibc entry points, looked up by name so that other C libraries simply lack them.</summary>
    private sealed class Glibc
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int MalloptFunction(int option, int value);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int MallocTrimFunction(nuint pad);

        private readonly MalloptFunction _mallopt;
        private readonly MallocTrimFunction _mallocTrim;

        private Glibc(nint mallopt, nint mallocTrim)
        {
            _mallopt = Marshal.GetDelegateForFunctionPointer<MalloptFunction>(mallopt);
            _mallocTrim = Marshal.GetDelegateForFunctionPointer<MallocTrimFunction>(mallocTrim);
        }

        public static Glibc? TryLoad()
        {
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var handle)) return null;
            // gnu_get_libc_version exists only in glibc; musl's libc has mallopt as a stub that does nothing.
            return NativeLibrary.TryGetExport(handle, "gnu_get_libc_version", out _)
                   && NativeLibrary.TryGetExport(handle, "mallopt", out var mallopt)
                   && NativeLibrary.TryGetExport(handle, "malloc_trim", out var trim)
                ? new Glibc(mallopt, trim)
                : null;
        }

        public bool SetOption(int option, int value) => _mallopt(option, value) == 1;

        public bool Trim() => _mallocTrim(0) == 1;
    }
}
