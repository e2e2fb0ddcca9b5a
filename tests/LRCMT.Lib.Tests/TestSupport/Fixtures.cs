namespace LRCMT.Tests.TestSupport;

/// <summary>Paths of the reference fixtures copied into the test output (tests/LRCMT.Lib.Tests/Fixtures).</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string TinyBertFolder => Path.Combine(Root, "hf", "tiny-bert");
    public static string TinyLoraFolder => Path.Combine(Root, "hf", "tiny-lora");
    public static string TinyBertIo => Path.Combine(Root, "hf", "tiny-bert-io.safetensors");
    public static string MmsaPickle => Path.Combine(Root, "mmsa", "mosi_like_aligned.pkl");
    public static string MmsaSummary => Path.Combine(Root, "mmsa", "mosi_like_aligned.pkl.json");
    public static string Metrics => Path.Combine(Root, "metrics", "mmsa-regression-metrics.json");
}
