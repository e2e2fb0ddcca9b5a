using LRCMT.Formats.Pickle;

namespace LRCMT.Data.Mmsa;

/// <summary>Checks one split's arrays against MMSA's layout and cuts them into samples.</summary>
internal sealed class MmsaSplitReader(string path, string split, Dictionary<object, object?> fields, MmsaLoadOptions options)
{
    public int AcousticDim { get; private set; }

    public int VisualDim { get; private set; }

    public MmsaSplit Read()
    {
        float[] labels = Labels("regression_labels");
        int n = labels.Length;
        string[] ids = Strings("id", n);
        string[] texts = Strings("raw_text", n);
        var (audio, audioLength, audioDim) = Sequences("audio", n);
        var (vision, visionLength, visionDim) = Sequences("vision", n);
        AcousticDim = audioDim;
        VisualDim = visionDim;

        // MMSA's loader sets the acoustic -inf cells (log of silence) to 0.
        for (int i = 0; i < audio.Length; i++)
            if (float.IsNegativeInfinity(audio[i])) audio[i] = 0;

        int[] audioLengths = Lengths("audio_lengths", n, audioLength);
        int[] visionLengths = Lengths("vision_lengths", n, visionLength);
        (long[] Values, int Length)? textBert = options.TextSource == MmsaTextSource.TextBert ? TextBert(n) : null;

        var samples = new MultimodalSample[n];
        for (int i = 0; i < n; i++)
        {
            var (tokenIds, typeIds) = textBert is { } bert ? TokensOf(bert, i) : (null, null);
            samples[i] = new MultimodalSample(
                ids[i], texts[i], tokenIds,
                Frames(audio, i, audioLength, audioDim, audioLengths[i]),
                Frames(vision, i, visionLength, visionDim, visionLengths[i]),
                labels[i]) { TokenTypeIds = typeIds };
        }

        var unimodal = new Dictionary<char, float[]>();
        foreach (var m in "TAV")
            if (fields.ContainsKey($"regression_labels_{m}"))
                unimodal[m] = Labels($"regression_labels_{m}");
        return new MmsaSplit(split, samples, unimodal);
    }

    private NdArray Array(string key)
    {
        var array = fields.GetValueOrDefault(key) as NdArray
            ?? throw MmsaFeatureFile.NotMmsa(path, fields.ContainsKey(key)
                ? $"'{split}.{key}' is not a numpy array"
                : $"split '{split}' has no '{key}' (found: {string.Join(", ", fields.Keys)})");
        return array.IsOmitted
            ? throw new Errors.CorruptFileException(path, null, $"'{split}.{key}' ({array}) is larger than a .NET array can hold and cannot be loaded")
            : array;
    }

    /// <summary>A label vector: numeric, one dimension, every value finite (a NaN label would train on NaN).</summary>
    private float[] Labels(string key)
    {
        var array = Array(key);
        float[] labels = Numbers(key, array.ToSingleArray);
        int bad = System.Array.FindIndex(labels, v => !float.IsFinite(v));
        if (bad >= 0) throw MmsaFeatureFile.NotMmsa(path, $"'{split}.{key}' holds {labels[bad]} at index {bad}; labels must be finite numbers");
        return labels;
    }

    private T Numbers<T>(string key, Func<T> read)
    {
        try { return read(); }
        catch (InvalidCastException e) { throw MmsaFeatureFile.NotMmsa(path, $"'{split}.{key}': {e.Message}"); }
    }

    private string[] Strings(string key, int n)
    {
        var array = Array(key);
        if (array.Count != n) throw Mismatch(key, $"{n} entries (one per label)", array.Shape);
        try { return array.ToStringArray(); }
        catch (InvalidCastException e) { throw MmsaFeatureFile.NotMmsa(path, $"'{split}.{key}': {e.Message}"); }
    }

    private (float[] Data, int Length, int Dim) Sequences(string key, int n)
    {
        var array = Array(key);
        if (array.Shape.Length != 3 || array.Shape[0] != n) throw Mismatch(key, $"[{n}, time, features]", array.Shape);
        if (array.Shape[1] is < 1 or > int.MaxValue || array.Shape[2] is < 1 or > int.MaxValue)
            throw Mismatch(key, $"[{n}, time ≥ 1, features ≥ 1]", array.Shape);
        return (Numbers(key, array.ToSingleArray), (int)array.Shape[1], (int)array.Shape[2]);
    }

    /// <summary>Real frames per sample, clamped to [1, time]: longer originals were cut to the array, and an
    /// empty sequence keeps one zero frame so attention always has a position to attend to.</summary>
    private int[] Lengths(string key, int n, int time)
    {
        if (!options.TrimToLengths || !fields.ContainsKey(key)) return Enumerable.Repeat(time, n).ToArray();
        // MMSA writes lengths as a Python list of ints in some releases and as a numpy array in others.
        long[] lengths = fields[key] switch
        {
            NdArray array => Numbers(key, array.ToInt64Array),
            List<object?> list when list.All(v => v is int or long) => list.Select(v => Convert.ToInt64(v)).ToArray(),
            _ => throw MmsaFeatureFile.NotMmsa(path, $"'{split}.{key}' is neither a numpy array nor a list of ints"),
        };
        if (lengths.Length != n) throw Mismatch(key, $"[{n}]", [lengths.Length]);
        return System.Array.ConvertAll(lengths, l => (int)Math.Clamp(l, 1, time));
    }

    private (long[] Values, int Length) TextBert(int n)
    {
        var array = Array("text_bert");
        if (array.Shape.Length != 3 || array.Shape[0] != n || array.Shape[1] != 3)
            throw Mismatch("text_bert", $"[{n}, 3, length] (ids, mask, segment ids)", array.Shape);
        if (array.Shape[2] > int.MaxValue) throw Mismatch("text_bert", $"[{n}, 3, length]", array.Shape);
        return (Numbers("text_bert", array.ToInt64Array), (int)array.Shape[2]);
    }

    /// <summary>Row 0 ids and row 2 segment ids, cut to the positions row 1's mask marks as real.</summary>
    private static (long[] Ids, long[] TypeIds) TokensOf((long[] Values, int Length) textBert, int i)
    {
        int l = textBert.Length, offset = i * 3 * l;
        var row = textBert.Values.AsSpan(offset, 3 * l);
        int real = 0;
        for (int t = 0; t < l; t++) if (row[l + t] != 0) real = t + 1;
        return (row[..real].ToArray(), row.Slice(2 * l, real).ToArray());
    }

    private static float[,] Frames(float[] data, int i, int time, int dim, int keep)
    {
        var frames = new float[keep, dim];
        long start = (long)i * time * dim; // MOSEI's arrays pass 2 GB, so offsets are 64-bit
        for (int t = 0; t < keep; t++)
            for (int d = 0; d < dim; d++) frames[t, d] = data[start + (long)t * dim + d];
        return frames;
    }

    private Errors.CorruptFileException Mismatch(string key, string expected, long[] actual) =>
        MmsaFeatureFile.NotMmsa(path, $"'{split}.{key}' should have shape {expected} but has {Errors.ShapeMismatchException.Format(actual)}");
}
