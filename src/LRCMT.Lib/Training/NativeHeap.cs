using System.Runtime.InteropServices;
using LRCMT.Errors;
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
/// The setting is process-wide (it changes how every native allocation of the process is served), so the library
/// never applies it on its own: <see cref="Trainer"/> applies it when <see cref="TrainerOptions.LimitNativeHeapGrowth"/>
/// is set, the <c>lrcmt</c> tool applies it for the processes it owns, and anyone else may call
/// <see cref="LimitGrowth"/> once at start-up. It costs page faults: a block served by its own mapping is zero-filled
/// again every time it is allocated (docs/performance.md has the measured price). Off Linux, or with a C library
/// other than glibc (musl), the methods do nothing and return false.
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

    private static readonly Lazy<Glibc?> Library = new(Glibc.TryLoad);

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
        return Library.Value is { } libc && libc.SetOption(M_MMAP_THRESHOLD, mmapThresholdBytes) & libc.SetOption(M_MMAP_MAX, DefaultMmapMax);
    }

    // glibc's own limit on simultaneous mappings (65536); the inference policy sets it to 0, the training one restores it.
    private const int DefaultMmapMax = 65536;

    // glibc's initial trim threshold (128 KiB): free memory above it at the top of the heap goes back to the system.
    private const int DefaultTrimThreshold = 128 * 1024;

    /// <summary>
    /// Sets how glibc serves libtorch's CPU tensors for the phase that follows (process-wide; see
    /// <see cref="HeapPolicy"/> for what each does and docs/performance.md for the measured effect). Call it when the
    /// phase changes, e.g. <see cref="HeapPolicy.Inference"/> before serving predictions and
    /// <see cref="HeapPolicy.Training"/> before full fine-tuning. <see cref="HeapPolicy.Default"/> leaves the heap as it is.
    /// </summary>
    /// <returns>True when the policy was applied (or is <see cref="HeapPolicy.Default"/>); false off glibc.</returns>
    /// <exception cref="InvalidConfigurationException">The policy is not one of the named values.</exception>
    public static bool Apply(HeapPolicy policy)
    {
        SettingRules.ThrowIf("native heap policy", SettingRules.Defined("policy", policy));
        if (Library.Value is not { } libc) return false;
        return policy switch
        {
            HeapPolicy.Training => libc.SetOption(M_MMAP_THRESHOLD, DefaultMmapThreshold) & libc.SetOption(M_MMAP_MAX, DefaultMmapMax)
                                   & libc.SetOption(M_TRIM_THRESHOLD, DefaultTrimThreshold),
            // No block gets its own mapping, and the heap keeps what is freed: the next forward reuses the same pages
            // instead of having the kernel map and zero them again.
            HeapPolicy.Inference => libc.SetOption(M_MMAP_MAX, 0) & libc.SetOption(M_TRIM_THRESHOLD, int.MaxValue),
            _ => true,
        };
    }

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
