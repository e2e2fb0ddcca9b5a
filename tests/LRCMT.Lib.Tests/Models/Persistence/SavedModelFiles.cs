using System.Text.Json.Nodes;
using LRCMT.IO;
using LRCMT.Models.Persistence;

namespace LRCMT.Tests.Models.Persistence;

/// <summary>
/// Edits a saved model folder the two ways a test needs: naively (as a user or a script editing the files would, which
/// the manifest's hashes must catch), or forged (the edit plus every hash recomputed, as someone who knows the format
/// would), to reach the checks that stand behind the hashes.
/// </summary>
internal static class SavedModelFiles
{
    public static string ManifestPath(string folder) => Path.Combine(folder, LrcmtModelFolder.ConfigFileName);

    public static JsonObject Manifest(string folder) => JsonNode.Parse(File.ReadAllText(ManifestPath(folder)))!.AsObject();

    /// <summary>Writes <paramref name="manifest"/> as it is (no hash recomputed).</summary>
    public static void WriteNaively(string folder, JsonObject manifest) => File.WriteAllText(ManifestPath(folder), manifest.ToJsonString());

    /// <summary>Applies <paramref name="edit"/> to the manifest, then recomputes every file hash it lists and its seal.</summary>
    public static void Forge(string folder, Action<JsonObject>? edit = null)
    {
        var manifest = Manifest(folder);
        edit?.Invoke(manifest);
        if (manifest["files"] is JsonObject files)
            foreach (var name in files.Select(f => f.Key).ToList())
                if (File.Exists(Path.Combine(folder, name))) files[name] = InputFile.Sha256(Path.Combine(folder, name));
        manifest[ModelManifest.SealField] = ModelManifest.Seal(manifest);
        WriteNaively(folder, manifest);
    }

    /// <summary>Sets the value at a dotted path (e.g. <c>options.Fusion.Heads</c>) of <paramref name="root"/>.</summary>
    public static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate((JsonNode)root, (node, key) => node[key]!);
        parent[parts[^1]] = value;
    }

    public static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
