using System.Diagnostics;
using FluentAssertions;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Runs <see cref="TokenizerCorpusParityTests"/> and <see cref="RobertaTokenizerParityTests"/> again in a child process of this test program with
/// <c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1</c>, the mode containers and trimmed apps use, where .NET's
/// <c>string.Normalize</c> and culture data are unavailable: the ids must not change. The child is the test program
/// itself, run directly (xunit's own command line: <c>-class</c>).
/// </summary>
public sealed class InvariantGlobalizationTests
{
    [Fact]
    public async Task The_corpus_parity_tests_pass_with_invariant_globalization()
    {
        var testProgram = typeof(InvariantGlobalizationTests).Assembly.Location;
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(testProgram);
        start.FileName = Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : Path.ChangeExtension(testProgram, OperatingSystem.IsWindows() ? ".exe" : null)!.TrimEnd('.');
        foreach (var argument in new[] { "-class", typeof(TokenizerCorpusParityTests).FullName!, "-class", typeof(RobertaTokenizerParityTests).FullName!, "-noColor" }) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";

        using var child = Process.Start(start)!;
        var cancel = TestContext.Current.CancellationToken;
        var output = child.StandardOutput.ReadToEndAsync(cancel);
        var errors = child.StandardError.ReadToEndAsync(cancel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await child.WaitForExitAsync(timeout.Token);
        var log = await output + await errors;

        child.ExitCode.Should().Be(0, log);
        // xunit's own runner (the test program started directly) reports "Total: 9, Errors: 0, Failed: 0".
        log.Should().MatchRegex(@"Total: [1-9]\d*, Errors: 0, Failed: 0", "the parity tests must actually have run and passed: " + log);
    }
}
