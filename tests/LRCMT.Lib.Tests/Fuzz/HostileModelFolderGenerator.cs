using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LRCMT.Models.Persistence;
using LRCMT.Formats.Safetensors;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Saved model folders (<c>LRCMTModel.Save</c>) attacked as a unit, from one small seed folder: a field of the
/// manifest changed with or without re-sealing it (a re-sealed lie reaches the checks behind the seal: dimensions that
/// would allocate gigabytes, integer enums, paths out of the folder), the adapter's config changed with its recorded hash
/// updated, a frozen base-encoder weight slipped into <c>model.safetensors</c> with its hash updated, the weights of
/// another save, and any file of the folder replaced by a FIFO, a device link or a link loop.
/// </summary>
internal static class HostileModelFolderGenerator
{
    private const string Manifest = "lrcmt_config.json";
    private const string Weights = "model.safetensors";
    private const string AdapterConfig = "adapter/adapter_config.json";

    private enum Lie { ManifestField, ResealedField, AdapterField, FrozenKey, OtherSave, FileKind }

    /// <summary>A case that copies <paramref name="seed"/> (and, for one lie, <paramref name="other"/>'s weights) to its path and lies there.</summary>
    internal static HostileCase Generate(string seed, string other, IReadOnlyList<(string Name, long[] Shape)> frozen, Random random)
    {
        var lie = (Lie)random.Next(Enum.GetValues<Lie>().Length);
        int pick = random.Next();
        var jsonRandom = new Random(pick);
        return lie switch
        {
            Lie.ManifestField => Case(seed, "manifest unsealed: ", folder =>
            {
                var (bytes, how) = HostileJson.Generate(File.ReadAllBytes(Path.Combine(folder, Manifest)), jsonRandom);
                File.WriteAllBytes(Path.Combine(folder, Manifest), bytes);
                return how;
            }),
            Lie.ResealedField => Case(seed, "manifest re-sealed: ", folder =>
            {
                var (bytes, how) = HostileJson.Generate(File.ReadAllBytes(Path.Combine(folder, Manifest)), jsonRandom);
                File.WriteAllBytes(Path.Combine(folder, Manifest), SealedIfPossible(bytes));
                return how;
            }),
            Lie.AdapterField => Case(seed, "adapter config with its hash updated: ", folder =>
            {
                var (bytes, how) = HostileJson.Generate(File.ReadAllBytes(Path.Combine(folder, AdapterConfig)), jsonRandom, "use_dora", "fan_in_fan_out", "use_rslora");
                File.WriteAllBytes(Path.Combine(folder, AdapterConfig), bytes);
                Rehash(folder, AdapterConfig);
                return how;
            }),
            Lie.FrozenKey => Case(seed, "", folder =>
            {
                string key = AddFrozenKey(folder, frozen[pick % frozen.Count]);
                Rehash(folder, Weights);
                return $"frozen key {key} in model.safetensors, its hash updated";
            }),
            Lie.OtherSave => Case(seed, "", folder =>
            {
                string file = pick % 2 == 0 ? Weights : "adapter/adapter_model.safetensors";
                File.Copy(Path.Combine(other, file), Path.Combine(folder, file), overwrite: true);
                return $"{file} of another save of the same shapes";
            }),
            _ => Case(seed, "", folder =>
            {
                string[] files = [Manifest, Weights, AdapterConfig, "adapter/adapter_model.safetensors"];
                string file = Path.Combine(folder, files[pick % files.Length]);
                var kinds = HostileFileKinds.All(sizeLimit: null).Where(k => k.How is not "an empty file").ToList();
                var kind = kinds[pick / files.Length % kinds.Count];
                File.Delete(file);
                kind.WriteTo(file);
                return $"{files[pick % files.Length]} replaced by {kind.How}";
            }),
        };
    }

    // The case copies the seed folder to its path, then lies; the lie's description is known only once it is written.
    private static HostileCase Case(string seed, string prefix, Func<string, string> lie)
    {
        var how = new Description(prefix);
        return new HostileCase(how, folder =>
        {
            Copy(seed, folder);
            how.Value = prefix + lie(folder);
        });
    }

    /// <summary>A mutable description, shown in a failure message after the case was written.</summary>
    private sealed class Description(string value)
    {
        internal string Value { get; set; } = value;
        public override string ToString() => Value;
    }

    private static JsonObject? Parse(byte[] bytes)
    {
        try
        {
            return JsonNode.Parse(bytes) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static byte[] Sealed(JsonObject root)
    {
        root[ModelManifest.SealField] = ModelManifest.Seal(root);
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    // Re-sealed where the lie leaves a manifest that can be sealed (a lone-surrogate or repeated key cannot even be hashed).
    private static byte[] SealedIfPossible(byte[] bytes)
    {
        try
        {
            return Parse(bytes) is { } root ? Sealed(root) : bytes;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return bytes;
        }
    }

    // Records the file's new SHA-256 in the manifest and re-seals it: only the meaning of the change is left to refuse.
    private static void Rehash(string folder, string relative)
    {
        string manifest = Path.Combine(folder, Manifest);
        var root = JsonNode.Parse(File.ReadAllBytes(manifest))!.AsObject();
        root["files"]![relative] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, relative))));
        File.WriteAllBytes(manifest, Sealed(root));
    }

    // A weight of the frozen base encoder (named and shaped as the model has it) added to model.safetensors.
    private static string AddFrozenKey(string folder, (string Name, long[] Shape) frozen)
    {
        string path = Path.Combine(folder, Weights);
        var tensors = SafetensorsFile.Load(path);
        tensors[frozen.Name] = zeros(frozen.Shape);
        SafetensorsFile.Save(path, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return frozen.Name;
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
