using LRCMT.Baselines;
using LRCMT.Checkpoints;
using LRCMT.Formats.Safetensors;
using LRCMT.Fusion;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>
/// The reference fixtures of Fixtures/baselines (written by make_baselines.py from the papers' equations) and the tiny
/// settings they were made with: keys <c>input.*</c> and <c>expected.*</c> are the I/O, every other key is a weight
/// under the C# module's state-dict name.
/// </summary>
internal sealed class BaselineFixture : IDisposable
{
    public const int Text = 12, Acoustic = 5, Visual = 4;

    private readonly Dictionary<string, Tensor> _tensors;

    public BaselineFixture(string file)
    {
        Name = file;
        _tensors = SafetensorsFile.Load(Fixtures.File("baselines", file));
    }

    public string Name { get; }

    public Tensor this[string key] => _tensors[key];

    public IReadOnlyDictionary<string, Tensor> Weights =>
        _tensors.Where(kv => !kv.Key.StartsWith("input.", StringComparison.Ordinal) && !kv.Key.StartsWith("expected.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Loads the weights strictly (every key of the module present, nothing extra, same shapes and dtypes).</summary>
    public void LoadInto(nn.Module module, StateDictLoadOptions? options = null) => StateDictLoader.Load(module, Weights, Name, options);

    public (MaskedSequence Text, MaskedSequence Acoustic, MaskedSequence Visual) Streams() => (
        new MaskedSequence(this["input.text"], this["input.text_mask"]),
        new MaskedSequence(this["input.acoustic"], this["input.acoustic_mask"]),
        new MaskedSequence(this["input.visual"], this["input.visual_mask"]));

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values) tensor.Dispose();
    }

    // The settings make_baselines.py used (its "config" metadata says the same).
    public static MulTSettings MulT => new()
    {
        CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 2 },
        AcousticKernelSize = 3,
    };

    public static UnimodalSubnetworkSettings Subnetworks => new() { TextHidden = 6, TextOut = 5, AcousticHidden = 3, VisualHidden = 2 };

    public static TfnSettings Tfn => new() { Subnetworks = Subnetworks, PostFusionHidden = 7 };

    public static LmfSettings Lmf => new() { Subnetworks = Subnetworks, Rank = 3 };

    public static double MaxAbsDifference(Tensor actual, Tensor expected)
    {
        using var difference = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max();
        return difference.item<double>();
    }
}
