using LRCMT.Errors;
using LRCMT.Formats.Pickle;

namespace LRCMT.Data.Mmsa;

/// <summary>
/// MMSA's processed features (<c>aligned_50.pkl</c> / <c>unaligned_50.pkl</c> for CMU-MOSI and CMU-MOSEI,
/// <c>unaligned_39.pkl</c> for CH-SIMS) read as <see cref="MultimodalSample"/>s. Feature sizes and sequence lengths
/// come from the file; <c>-inf</c> in the acoustic features becomes 0, as MMSA's loader does.
/// </summary>
public sealed class MmsaFeatureFile
{
    private static readonly string[] SplitNames = ["train", "valid", "test"];

    private MmsaFeatureFile(string path, IReadOnlyDictionary<string, MmsaSplit> splits, int acousticDim, int visualDim)
    {
        Path = path;
        Splits = splits;
        AcousticDim = acousticDim;
        VisualDim = visualDim;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The three splits by name.</summary>
    public IReadOnlyDictionary<string, MmsaSplit> Splits { get; }

    /// <summary>The training split.</summary>
    public MmsaSplit Train => Splits["train"];

    /// <summary>The validation split.</summary>
    public MmsaSplit Valid => Splits["valid"];

    /// <summary>The test split.</summary>
    public MmsaSplit Test => Splits["test"];

    /// <summary>Acoustic feature size (MOSI 5, MOSEI 74, SIMS 33).</summary>
    public int AcousticDim { get; }

    /// <summary>Visual feature size (MOSI 20, MOSEI 35, SIMS 709).</summary>
    public int VisualDim { get; }

    /// <summary>Reads and checks an MMSA feature pickle.</summary>
    /// <exception cref="CorruptFileException">The file is truncated, not a pickle, or lacks a part of MMSA's layout (the message says which).</exception>
    /// <exception cref="UnsafePickleException">The pickle imports something other than numpy data.</exception>
    public static MmsaFeatureFile Load(string path, MmsaLoadOptions? options = null)
    {
        options ??= new MmsaLoadOptions();
        var root = SafePickle.Load(path) as Dictionary<object, object?>
            ?? throw NotMmsa(path, "the pickle does not hold a dict; an MMSA feature file is {\"train\", \"valid\", \"test\"} → dict of arrays");

        var splits = new Dictionary<string, MmsaSplit>();
        int? acousticDim = null, visualDim = null;
        foreach (var name in SplitNames)
        {
            if (root.GetValueOrDefault(name) is not Dictionary<object, object?> fields)
                throw NotMmsa(path, $"no '{name}' split (found: {string.Join(", ", root.Keys)})");
            var reader = new MmsaSplitReader(path, name, fields, options);
            splits[name] = reader.Read();
            acousticDim = SameSize(path, "audio", acousticDim, reader.AcousticDim);
            visualDim = SameSize(path, "vision", visualDim, reader.VisualDim);
        }
        return new MmsaFeatureFile(path, splits, acousticDim!.Value, visualDim!.Value);
    }

    internal static CorruptFileException NotMmsa(string path, string problem) => new(path, null, $"not an MMSA feature file: {problem}");

    private static int SameSize(string path, string field, int? previous, int current) =>
        previous is null || previous == current
            ? current
            : throw NotMmsa(path, $"'{field}' has {current} features in one split and {previous} in another");
}
