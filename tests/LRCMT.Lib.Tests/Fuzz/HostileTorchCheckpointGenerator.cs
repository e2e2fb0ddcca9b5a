using System.IO.Compression;
using LRCMT.Tests.TestSupport;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// torch.save checkpoints (the zip format and the legacy one) taken apart: an entry removed, cut short, grown,
/// repeated or renamed, <c>data.pkl</c> replaced by a hostile pickle program, a storage entry deflated from a claimed
/// gigabyte (a zip bomb's ratio), the archive cut off or its central directory damaged, the legacy file cut off.
/// </summary>
internal static class HostileTorchCheckpointGenerator
{
    private enum Lie { Remove, CutShort, Grow, Repeat, Rename, HostilePickle, Bomb, CutArchive, LegacyCutOff }

    private static readonly Lazy<List<(string Name, byte[] Bytes)>> Seed = new(() =>
    {
        using var zip = ZipFile.OpenRead(Fixtures.File("torch", "small.bin"));
        return zip.Entries.Select(e =>
        {
            using var stream = e.Open();
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (e.FullName, copy.ToArray());
        }).ToList();
    });

    internal static (byte[] Bytes, string How) Generate(Random random)
    {
        var lie = (Lie)random.Next(Enum.GetValues<Lie>().Length);
        if (lie == Lie.LegacyCutOff)
        {
            var legacy = File.ReadAllBytes(Fixtures.File("torch", "small-legacy.bin"));
            int at = random.Next(legacy.Length);
            return (legacy[..at], $"legacy checkpoint cut off at byte {at}");
        }

        var entries = Seed.Value.ToList();
        int victim = random.Next(entries.Count);
        var (name, bytes) = entries[victim];
        string how = $"{lie} {name}";
        bool bomb = false;
        switch (lie)
        {
            case Lie.Remove: entries.RemoveAt(victim); break;
            case Lie.CutShort: entries[victim] = (name, bytes[..random.Next(bytes.Length)]); break;
            case Lie.Grow: entries[victim] = (name, [.. bytes, .. new byte[random.Next(1, 4096)]]); break;
            case Lie.Repeat: entries.Insert(victim, (name, bytes.Reverse().ToArray())); break;
            case Lie.Rename: entries[victim] = (name.Replace("small/", random.Next(2) == 0 ? "other/" : "small/../", StringComparison.Ordinal), bytes); break;
            case Lie.HostilePickle:
            {
                int pickle = entries.FindIndex(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal));
                var (program, made) = HostilePickleGenerator.Generate(random);
                entries[pickle] = (entries[pickle].Name, program);
                how = $"data.pkl: {made}";
                break;
            }
            case Lie.Bomb:
                bomb = true;
                how = $"{name} deflated from 128 MiB of zeros";
                break;
        }

        var archive = new MemoryStream();
        using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (entryName, content) in entries)
            {
                bool inflate = bomb && entryName == name;
                var entry = zip.CreateEntry(entryName, inflate ? CompressionLevel.SmallestSize : CompressionLevel.NoCompression);
                using var stream = entry.Open();
                if (!inflate)
                {
                    stream.Write(content);
                    continue;
                }

                var zeros = new byte[1 << 20];
                for (var i = 0; i < 128; i++) stream.Write(zeros);
            }
        }

        var result = archive.ToArray();
        if (lie == Lie.CutArchive)
        {
            int at = random.Next(result.Length);
            result = result[..at];
            how = $"archive cut off at byte {at}";
        }

        return (result, how);
    }
}
