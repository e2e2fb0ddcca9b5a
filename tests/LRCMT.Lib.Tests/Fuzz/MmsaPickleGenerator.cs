namespace LRCMT.Tests.Fuzz;

/// <summary>Small MMSA-layout feature pickles ({"train","valid","test"} → dict of numpy arrays), with hooks to lie.</summary>
internal static class MmsaPickleGenerator
{
    public const int Samples = 3, Time = 4, Acoustic = 5, Visual = 2;

    /// <param name="labels">The train split's regression labels (default: finite values).</param>
    /// <param name="trainLabels">Replaces the train split's label array entirely (e.g. a string array).</param>
    public static byte[] Write(float[]? labels = null, Action<PickleBuilder>? trainLabels = null, int seed = 0)
    {
        var random = new Random(seed);
        var p = new PickleBuilder().Proto(2).EmptyDict().Mark();
        foreach (var split in new[] { "train", "valid", "test" })
        {
            p.Str(split).EmptyDict().Mark();
            p.Str("id").Strings(Enumerable.Range(0, Samples).Select(i => $"{split}$_${i}").ToArray(), 16);
            p.Str("raw_text").Strings(Enumerable.Range(0, Samples).Select(i => $"clip {i}").ToArray(), 8);
            p.Str("regression_labels");
            if (split == "train" && trainLabels is not null) trainLabels(p);
            else p.Floats(split == "train" && labels is not null ? labels : Enumerable.Range(0, Samples).Select(i => (float)(i - 1)).ToArray());
            p.Str("text_bert").Floats(Enumerable.Range(0, Samples).SelectMany(_ => new float[] { 101, 7, 8, 102, 1, 1, 1, 1, 0, 0, 0, 0 }).ToArray(), Samples, 3, 4);
            p.Str("audio").Floats(Noise(random, Samples * Time * Acoustic), Samples, Time, Acoustic);
            p.Str("vision").Floats(Noise(random, Samples * Time * Visual), Samples, Time, Visual);
            p.SetItems();
            p.SetItems().Mark(); // close this split, reopen the outer dict's item list
        }
        p.SetItems();
        return p.Stop().ToArray();
    }

    private static float[] Noise(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
}
