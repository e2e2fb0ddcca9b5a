using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>How many parameters a module has and how many of them train.</summary>
/// <param name="TrainableParameters">Elements of parameters that require gradients.</param>
/// <param name="AllParameters">Elements of all parameters.</param>
public sealed record ParameterReport(long TrainableParameters, long AllParameters)
{
    /// <summary>Trainable share in percent (0 when the module has no parameters).</summary>
    public double TrainablePercent => AllParameters == 0 ? 0 : 100.0 * TrainableParameters / AllParameters;

    /// <summary>
    /// Counts the parameters of <paramref name="module"/> (each tensor once, even if shared), plus the frozen weights of
    /// adapted layers that their module keeps as buffers (registered linear-like types), which count as frozen parameters.
    /// </summary>
    public static ParameterReport Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        long trainable = 0, all = 0;
        var seen = new HashSet<IntPtr>();
        foreach (var parameter in module.parameters())
        {
            if (!seen.Add(parameter.Handle)) continue;
            all += parameter.numel();
            if (parameter.requires_grad) trainable += parameter.numel();
        }
        foreach (var layer in module.modules().Prepend(module).OfType<LoRALayer>()) all += layer.FrozenBufferElements;
        return new ParameterReport(trainable, all);
    }

    /// <summary>PEFT's line: <c>trainable params: 1,234 || all params: 5,678 || trainable%: 21.7330</c>.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture,
            $"trainable params: {TrainableParameters:N0} || all params: {AllParameters:N0} || trainable%: {TrainablePercent:F4}");
}
