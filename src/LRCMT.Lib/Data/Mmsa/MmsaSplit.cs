namespace LRCMT.Data.Mmsa;

/// <summary>One split (<c>train</c>, <c>valid</c> or <c>test</c>) of an MMSA feature file.</summary>
public sealed class MmsaSplit
{
    internal MmsaSplit(string name, IReadOnlyList<MultimodalSample> samples, IReadOnlyDictionary<char, float[]> unimodalLabels)
    {
        Name = name;
        Samples = samples;
        UnimodalLabels = unimodalLabels;
    }

    /// <summary>The split's key in the file.</summary>
    public string Name { get; }

    /// <summary>The samples, in file order; <see cref="MultimodalSample.Label"/> is <c>regression_labels</c>.</summary>
    public IReadOnlyList<MultimodalSample> Samples { get; }

    /// <summary>CH-SIMS' per-modality labels (<c>regression_labels_T/_A/_V</c>) keyed 'T', 'A', 'V'; empty for MOSI/MOSEI.</summary>
    public IReadOnlyDictionary<char, float[]> UnimodalLabels { get; }
}
