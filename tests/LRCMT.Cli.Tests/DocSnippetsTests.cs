using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace LRCMT.Tests.Cli;

// Every C# block of the README, docs/ and the package README has a compiled twin in tests/LRCMT.Docs.Snippets (which
// the solution builds); this checks the twins still say what the documents say, line by line and in order.
public partial class DocSnippetsTests
{
    private static readonly Dictionary<string, string> SnippetFiles = new()
    {
        ["README.md"] = "Readme.cs",
        ["docs/lora.md"] = "Lora.cs",
        ["docs/text-encoders.md"] = "TextEncoders.cs",
        ["docs/data-and-training.md"] = "DataAndTraining.cs",
        ["docs/performance.md"] = "Performance.cs",
        ["docs/baselines.md"] = "Baselines.cs",
        ["docs/deploying.md"] = "Deploying.cs",
        ["src/LRCMT.Lib/PACKAGE.md"] = "PackageReadme.cs",
    };

    public static TheoryData<string> Documents()
    {
        var documents = new TheoryData<string>("README.md", "src/LRCMT.Lib/PACKAGE.md");
        foreach (var file in Directory.GetFiles(RepositoryFiles.Path("docs"), "*.md").Order())
            documents.Add("docs/" + System.IO.Path.GetFileName(file));
        return documents;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_csharp_block_of_the_document_is_compiled_by_the_snippet_project(string document)
    {
        var blocks = CSharpBlock().Matches(File.ReadAllText(RepositoryFiles.Path(document))).Select(m => m.Groups[1].Value).ToList();
        if (blocks.Count == 0) return;

        SnippetFiles.Should().ContainKey(document, "a document with C# blocks needs a file in tests/LRCMT.Docs.Snippets");
        var compiled = Lines(File.ReadAllText(RepositoryFiles.Path("tests", "LRCMT.Docs.Snippets", SnippetFiles[document])));
        int at = 0;
        foreach (var block in blocks)
        {
            foreach (var line in Lines(block))
            {
                int found = compiled.FindIndex(at, l => l == line);
                found.Should().BeGreaterThanOrEqualTo(0, $"'{line}' of {document} must appear (in order) in {SnippetFiles[document]}");
                at = found + 1;
            }
        }
    }

    private static List<string> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    [GeneratedRegex(@"```csharp\r?\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
