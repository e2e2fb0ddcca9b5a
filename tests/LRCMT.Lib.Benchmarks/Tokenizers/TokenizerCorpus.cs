using System.Text;
using System.Text.RegularExpressions;

namespace LRCMT.Benchmarks.Tokenizers;

/// <summary>
/// The texts the tokenizer benchmark encodes, taken from this repository's own prose (README.md and docs/*.md, English
/// technical text with code and tables): "long texts" are ~2 KB chunks cut at paragraph ends, "short transcripts" are
/// single sentences (what MOSI-style utterances look like), lower-cased and without markdown punctuation runs.
/// </summary>
internal static partial class TokenizerCorpus
{
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "LRCMT.Lib.sln"))) return folder.FullName;
        throw new InvalidOperationException("run the benchmark from inside the repository (LRCMT.Lib.sln not found above the program).");
    }

    public static IReadOnlyList<string> LongTexts()
    {
        var chunks = new List<string>();
        var current = new StringBuilder();
        foreach (var paragraph in Paragraphs())
        {
            current.Append(paragraph).Append('\n');
            if (current.Length < 2048) continue;
            chunks.Add(current.ToString());
            current.Clear();
        }

        return chunks;
    }

    public static IReadOnlyList<string> ShortTranscripts() =>
        Paragraphs().Where(p => !p.StartsWith('|') && !p.StartsWith("```", StringComparison.Ordinal))
            .SelectMany(p => SentenceEnd().Split(p))
            .Select(s => Markup().Replace(s, " ").Trim().ToLowerInvariant())
            .Where(s => s.Length is >= 20 and <= 300)
            .ToList();

    public static long Utf8Bytes(IEnumerable<string> texts) => texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));

    private static IEnumerable<string> Paragraphs()
    {
        var root = RepositoryRoot();
        var files = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal));
        return files.SelectMany(f => File.ReadAllText(f).Split("\n\n")).Select(p => p.Trim()).Where(p => p.Length > 0);
    }

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"[`*_#|>\[\]]+|\s+")]
    private static partial Regex Markup();
}
