using System.Diagnostics;
using FluentAssertions;
using LRCMT.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// The tokenizers live in LRCMT.Core, which has no TorchSharp: a program that references only LRCMT.Core
/// (tests/LRCMT.Core.Probe, built beside these tests) tokenizes with both tokenizers and must map no libtorch.
/// </summary>
public sealed class LibtorchFreeTokenizationTests
{
    [Fact]
    public async Task A_program_using_only_LRCMT_Core_tokenizes_without_loading_libtorch()
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "LRCMT.Core.Probe.dll");
        File.Exists(probe).Should().BeTrue("the probe is built by the ProjectReference in LRCMT.Lib.Tests.csproj");
        var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "exec", probe, Path.Combine(TokenizerReference.Folder, "bert-cased"), Fixtures.File("roberta") }) start.ArgumentList.Add(argument);

        using var child = Process.Start(start)!;
        var cancel = TestContext.Current.CancellationToken;
        var output = child.StandardOutput.ReadToEndAsync(cancel);
        var errors = child.StandardError.ReadToEndAsync(cancel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        await child.WaitForExitAsync(timeout.Token);
        var log = await output + await errors;

        child.ExitCode.Should().Be(0, log);
        log.Should().MatchRegex(@"bert: \d+(,\d+)+", "the probe must have tokenized: " + log);
        log.Should().MatchRegex(@"roberta: \d+(,\d+)+", "the probe must have tokenized: " + log);
        log.Should().Contain("libtorch: no", "a Core-only program must not map libtorch");
        log.Should().Contain("assemblies: no TorchSharp");
    }

    [Fact]
    public void The_maps_check_sees_libtorch_in_a_process_that_uses_torch()
    {
        // The control for the test above: this test process uses TorchSharp, and the same /proc/self/maps check finds it.
        using var probe = zeros(1);

        File.ReadLines("/proc/self/maps").Should().Contain(l => l.Contains("libtorch", StringComparison.OrdinalIgnoreCase));
    }

    // The dotnet host that runs this test (the CLI sets DOTNET_HOST_PATH), else the one on PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
