using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.LowRank;

public sealed class PeftAdapterConfigDuplicateKeyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-peft-dup-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_repeated_key_is_a_corrupt_file_not_an_argument_exception()
    {
        // Found by the fuzz suite: deleting bytes can leave "r" twice in the object.
        string config = File.ReadAllText(Fixtures.File("hf", "tiny-lora", PeftAdapterFile.ConfigFileName));
        File.WriteAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName), config.Replace("{", "{\n  \"r\": 2,", StringComparison.Ordinal));

        var read = () => PeftAdapterFile.ReadConfig(_folder);

        read.Should().Throw<CorruptFileException>().WithMessage("*adapter_config.json*");
    }
}
