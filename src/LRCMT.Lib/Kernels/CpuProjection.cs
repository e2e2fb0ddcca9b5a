using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Kernels;

/// <summary>
/// The one rule for when a projection x·Wᵀ + b runs on <see cref="Sgemm"/> instead of libtorch: float32 on the CPU,
/// a weight that does not train (inference, or a frozen layer whose input records gradients), enough rows to pay for
/// packing the weight, a CPU with AVX-512 whose vendor is not Intel (MKL takes its AVX-512 path on Intel's CPUs only,
/// docs/performance.md), libtorch set to one thread, and the environment variable <see cref="Variable"/> not set to
/// <c>libtorch</c>. Everything else goes to <c>torch.nn.functional.linear</c>.
/// </summary>
/// <remarks>
/// Why one thread: between two products libtorch's other operators run on its OpenMP pool, whose threads spin for a while
/// after each one; the product's .NET threads then share the cores with them. Measured on the 2-core machine with two
/// threads, the library's product gained 7 % (MiniLM 8 × 64 forward 85 against 91 ms, a bert-base LoRA step 1 225 against
/// 1 314 ms) where with one thread it halves the time (72 against 142 ms; 1 370 against 2 333 ms), and on more cores the
/// contention is unmeasured. <c>managed</c> uses it with any thread count.
/// </remarks>
internal static class CpuProjection
{
    /// <summary>
    /// The environment variable that chooses the CPU product: <c>libtorch</c> always uses libtorch's; <c>managed</c> uses
    /// the library's wherever the CPU has AVX-512 (Intel's too) and whatever the thread count; unset or <c>auto</c>, the
    /// rule above.
    /// </summary>
    public const string Variable = "LRCMT_CPU_GEMM";

    /// <summary>
    /// Fewer rows than this and packing the weight costs more than libtorch's slower product saves: MiniLM's projections
    /// (one thread) took 11.6 against libtorch's 11.0 ms at 32 rows, 12.9 against 14.6 at 48 and half the time from ~128 on.
    /// </summary>
    internal const long MinimumRows = 40;

    /// <summary>When the library's product may run, as the setting and the CPU decide.</summary>
    internal enum Use
    {
        /// <summary>Never: libtorch computes every projection.</summary>
        Never,

        /// <summary>While libtorch runs on one thread (<c>auto</c> on a CPU where it helps).</summary>
        OneThread,

        /// <summary>Whatever the thread count (<c>managed</c>).</summary>
        Always,
    }

    // Read at the first projection, so a mistyped value is an InvalidConfigurationException there, not a type-initialiser failure.
    private static readonly Lazy<Use> Setting = new(() => Decide(Environment.GetEnvironmentVariable(Variable), Sgemm.IsSupported, IsIntel()));

    [ThreadStatic] private static long _managedCalls;

    /// <summary>Projections the library's kernel computed on the calling thread (for tests: other threads do not move it).</summary>
    internal static long ManagedCallsOnThisThread => _managedCalls;

    /// <summary>What the setting and the CPU decided (read once per process).</summary>
    internal static Use Current => Setting.Value;

    /// <summary>Whether the library's product is used now, with this setting, CPU and libtorch thread count.</summary>
    internal static bool IsEnabled => Setting.Value switch
    {
        Use.Always => true,
        Use.OneThread => torch.get_num_threads() == 1,
        _ => false,
    };

    /// <summary>The rule's machine part, separate so tests can check it for other CPUs and settings.</summary>
    /// <exception cref="InvalidConfigurationException">The setting is not one of the three words.</exception>
    internal static Use Decide(string? setting, bool avx512, bool intel)
    {
        string word = string.IsNullOrWhiteSpace(setting) ? "auto" : setting.Trim().ToLowerInvariant();
        SettingRules.ThrowIf("environment", SettingRules.OneOf(Variable, word, "auto", "managed", "libtorch"));
        if (!avx512 || word == "libtorch") return Use.Never;
        if (word == "managed") return Use.Always;
        return intel ? Use.Never : Use.OneThread;
    }

    /// <summary>
    /// <c>torch.nn.functional.linear(input, weight, bias)</c>, computed by <see cref="Sgemm"/> where the rule allows:
    /// directly when no gradient is recorded, through <see cref="FrozenProjection"/> when only the input's is (a frozen
    /// weight), by libtorch when the weight or bias trains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        if (!Eligible(input, weight, bias)) return nn.functional.linear(input, weight, bias);
        if (!torch.is_grad_enabled() || !(input.requires_grad || weight.requires_grad || bias?.requires_grad == true))
            return Product(input, weight, bias);
        return weight.requires_grad || bias?.requires_grad == true
            ? nn.functional.linear(input, weight, bias)
            : FrozenProjection.Project(input, weight, bias);
    }

    /// <summary>
    /// <c>module.call(input)</c>; a TorchSharp <see cref="TorchSharp.Modules.Linear"/> without hooks has its product computed
    /// by <see cref="Linear(Tensor, Tensor, Tensor?)"/>. Hooks (the library's own substituted adapters among them) run
    /// only through <c>call</c>, so a module that has any is always called.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Call(nn.Module<Tensor, Tensor> module, Tensor input)
        // A Linear's forward is functional.linear of its weight and bias, which Linear falls back to where the rule says no.
        => module is TorchSharp.Modules.Linear linear && !HookProbe.HasHooks(linear)
            ? Linear(input, linear.weight, linear.bias)
            : module.call(input);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Eligible(Tensor input, Tensor weight, Tensor? bias)
    {
        if (!IsEnabled) return false;
        if (input.device_type != DeviceType.CPU || weight.device_type != DeviceType.CPU) return false;
        if (input.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32) return false;
        if (weight.dim() != 2 || input.dim() < 1 || input.size(-1) != weight.size(1)) return false;
        if (bias is not null && (bias.device_type != DeviceType.CPU || bias.dtype != ScalarType.Float32
                                 || bias.dim() != 1 || bias.size(0) != weight.size(0))) return false;
        long rows = input.numel() / Math.Max(1, input.size(-1));
        if (input.size(-1) == 0 || rows < MinimumRows) return false;
        // Span lengths are ints: the largest tensors go to libtorch.
        long outputs = rows * weight.size(0);
        return input.numel() <= int.MaxValue / 4 && weight.numel() <= int.MaxValue / 4 && outputs <= int.MaxValue / 4;
    }

    /// <summary>x·Wᵀ + b by <see cref="Sgemm"/>, recording nothing (the caller checked <see cref="Eligible"/>).</summary>
    internal static Tensor Product(Tensor input, Tensor weight, Tensor? bias) => Multiply(input, weight, bias, transposed: true);

    /// <summary>The input gradient of x·Wᵀ + b: g·W for the output gradient <paramref name="gradOutput"/> [..., out].</summary>
    internal static Tensor InputGradient(Tensor gradOutput, Tensor weight) => Multiply(gradOutput, weight, null, transposed: false);

    // [..., k] times the [out, in] weight: transposed, a·Wᵀ (+ b) with k = in; else a·W with k = out. A new float32
    // tensor [..., n] whatever the caller's dispose scope.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe Tensor Multiply(Tensor a, Tensor weight, Tensor? bias, bool transposed)
    {
        long k = a.size(-1), n = transposed ? weight.size(0) : weight.size(1);
        long rows = a.numel() / k;
        using var scope = NewDisposeScope();
        var x = a.to(ScalarType.Float32).contiguous();
        var w = weight.contiguous();
        var b = bias?.contiguous();
        long[] shape = a.shape;
        shape[^1] = n;
        var output = torch.empty(shape, ScalarType.Float32, a.device);
        fixed (byte* px = x.bytes, pw = w.bytes, py = output.bytes)
        fixed (byte* pb = b is null ? default : b.bytes)
        {
            if (transposed)
                Sgemm.MultiplyTransposed((float*)px, rows, (float*)pw, (int)n, (int)k, b is null ? null : (float*)pb, (float*)py, torch.get_num_threads());
            else
                Sgemm.MultiplyPlain((float*)px, rows, (float*)pw, (int)n, (int)k, (float*)py, torch.get_num_threads());
        }
        _managedCalls++;
        return output.MoveToOuterDisposeScope();
    }

    private static bool IsIntel()
    {
        if (!X86Base.IsSupported) return false;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        // "GenuineIntel" as cpuid leaf 0 spells it: ebx "Genu", edx "ineI", ecx "ntel".
        return ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;
    }

    /// <summary>Whether a TorchSharp module has hooks registered (they live in fields TorchSharp keeps protected).</summary>
    private static class HookProbe
    {
        private static readonly FieldInfo[]? Fields = Find();

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static bool HasHooks(nn.Module module)
        {
            // Fields not found (another TorchSharp): assume hooks, so the module is always called.
            if (Fields is null) return true;
            foreach (var field in Fields)
                if (field.GetValue(module) is System.Collections.ICollection { Count: > 0 }) return true;
            return false;
        }

        private static FieldInfo[]? Find()
        {
            string[] names = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];
            var found = new List<FieldInfo>();
            foreach (var name in names)
            {
                FieldInfo? field = null;
                for (var type = typeof(TorchSharp.Modules.Linear); type is not null && field is null; type = type.BaseType)
                    field = type.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
                if (field is null || !typeof(System.Collections.ICollection).IsAssignableFrom(field.FieldType)) return null;
                found.Add(field);
            }
            return [.. found];
        }
    }
}
