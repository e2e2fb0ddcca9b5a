using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// What a run's numbers depend on besides its settings, recorded in config.json: libtorch and TorchSharp versions,
/// the CPU kernel selection (the ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA variables and the CPU's instruction-set
/// flags), the thread counts in effect and the seed. Results are bit-identical only when all of these match.
/// </summary>
public sealed class RunEnvironment
{
    /// <summary>The CPU flags that decide which libtorch / oneDNN kernels run (from /proc/cpuinfo).</summary>
    internal static readonly string[] KernelFlags =
        ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16"];

    /// <summary>libtorch version (TorchSharp's <c>torch.__version__</c>).</summary>
    public string LibTorchVersion { get; set; } = "";

    /// <summary>TorchSharp assembly version.</summary>
    public string TorchSharpVersion { get; set; } = "";

    /// <summary>libtorch intra-op threads in effect.</summary>
    public int Threads { get; set; }

    /// <summary>How <see cref="Threads"/> was chosen: set, or the automatic choice and why.</summary>
    public string ThreadsChoice { get; set; } = "";

    /// <summary>libtorch inter-op threads in effect.</summary>
    public int InteropThreads { get; set; }

    /// <summary>The seed of data generation, initialisation and shuffling.</summary>
    public long Seed { get; set; }

    /// <summary>ATEN_CPU_CAPABILITY as set in the environment (null: unset, libtorch picks the best the CPU has).</summary>
    public string? AtenCpuCapability { get; set; }

    /// <summary>ONEDNN_MAX_CPU_ISA as set in the environment (null: unset).</summary>
    public string? OnednnMaxCpuIsa { get; set; }

    /// <summary>
    /// Which float32 product computes the frozen projections: <c>libtorch</c>, or <c>LRCMT AVX-512</c> where the library's
    /// rule takes them (a CPU with AVX-512 that is not Intel's, one thread; <c>LRCMT_CPU_GEMM</c>). The digits differ
    /// between the two in the last bits.
    /// </summary>
    public string Projections { get; set; } = "";

    /// <summary>
    /// The ATen kernel level this run used, as far as it can be known from outside: TorchSharp does not expose
    /// libtorch's own choice, so this is the CPU's best level (avx512 needs avx512f/bw/vl/dq, avx2 needs avx2 and fma)
    /// capped by <see cref="AtenCpuCapability"/>.
    /// </summary>
    public string CpuCapabilityInferred { get; set; } = "";

    /// <summary>The kernel-relevant CPU flags present (<see cref="KernelFlags"/> order).</summary>
    public List<string> CpuFlags { get; set; } = [];

    /// <summary>The CPU model name, where the OS reports it.</summary>
    public string? CpuModel { get; set; }

    /// <summary>Logical processors visible to the process.</summary>
    public int ProcessorCount { get; set; }

    /// <summary>Operating system description.</summary>
    public string OperatingSystem { get; set; } = "";

    /// <summary>Captures the environment now (call after the thread count was applied).</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="configuredThreads">The threads setting (0 = auto), to say how the count in effect was chosen.</param>
    internal static RunEnvironment Capture(long seed, int configuredThreads)
    {
        var (flags, model) = ReadCpuInfo();
        string? capability = Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY");
        return new RunEnvironment
        {
            LibTorchVersion = torch.__version__,
            TorchSharpVersion = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                                ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "",
            Threads = torch.get_num_threads(),
            ThreadsChoice = CpuThreads.Describe(configuredThreads, torch.get_num_threads()),
            InteropThreads = torch.get_num_interop_threads(),
            Seed = seed,
            AtenCpuCapability = capability,
            OnednnMaxCpuIsa = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"),
            Projections = LRCMT.Kernels.CpuProjection.IsEnabled ? "LRCMT AVX-512" : "libtorch",
            CpuCapabilityInferred = InferCapability(flags, capability),
            CpuFlags = flags,
            CpuModel = model,
            ProcessorCount = Environment.ProcessorCount,
            OperatingSystem = RuntimeInformation.OSDescription,
        };
    }

    /// <summary>
    /// The console's one line on what the numbers depend on: "Threads: 2 (auto: one per core) · CPU kernels: avx512 · seed 1"
    /// (the environment variables that cap the kernels are named when set; "· projections: LRCMT AVX-512" where the
    /// library's own product computes them).
    /// </summary>
    internal string Summary(bool withSeed)
    {
        string kernels = CpuCapabilityInferred;
        if (AtenCpuCapability is not null) kernels += $" (ATEN_CPU_CAPABILITY={AtenCpuCapability})";
        if (OnednnMaxCpuIsa is not null) kernels += $" (ONEDNN_MAX_CPU_ISA={OnednnMaxCpuIsa})";
        string projections = Projections is "" or "libtorch" ? "" : $" · projections: {Projections}";
        return $"Threads: {Threads} ({ThreadsChoice}) · CPU kernels: {kernels}{projections}" + (withSeed ? $" · seed {Seed}" : "");
    }

    /// <summary>The CPU's best ATen level from its flags, capped by an ATEN_CPU_CAPABILITY value (default &lt; avx2 &lt; avx512).</summary>
    internal static string InferCapability(IReadOnlyCollection<string> flags, string? requested)
    {
        string best = new[] { "avx512f", "avx512bw", "avx512vl", "avx512dq" }.All(flags.Contains) ? "avx512"
            : flags.Contains("avx2") && flags.Contains("fma") ? "avx2"
            : "default";
        string[] order = ["default", "avx2", "avx512"];
        int cap = requested is null ? order.Length - 1 : Array.IndexOf(order, requested.Trim().ToLowerInvariant());
        if (cap < 0) return best + $" (ATEN_CPU_CAPABILITY='{requested}' is not a level libtorch knows)";
        return order[Math.Min(cap, Array.IndexOf(order, best))];
    }

    private static (List<string> Flags, string? Model) ReadCpuInfo()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return ([], null);
        string? flagsLine = null, model = null;
        foreach (var line in File.ReadLines(cpuinfo))
        {
            if (flagsLine is null && line.StartsWith("flags", StringComparison.Ordinal)) flagsLine = line;
            else if (model is null && line.StartsWith("model name", StringComparison.Ordinal)) model = line[(line.IndexOf(':') + 1)..].Trim();
            if (flagsLine is not null && model is not null) break;
        }
        var present = flagsLine is null ? [] : flagsLine[(flagsLine.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return (KernelFlags.Where(present.Contains).ToList(), model);
    }
}
