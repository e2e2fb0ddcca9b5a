using FluentAssertions;
using TorchSharp;
using Xunit;

namespace LRCMT.Tests;

public class SmokeTests
{
    [Fact]
    public void Libtorch_loads_and_multiplies()
    {
        using var a = torch.ones(2, 3);
        using var b = torch.ones(3, 4);
        using var c = a.matmul(b);
        c.sum().item<float>().Should().Be(24f);
    }
}
