using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Fusion;

/// <summary>
/// Projects one modality's raw features to the shared fusion width with a bias-free 1-D convolution over time
/// (MulT's temporal convolution; kernel size 1 is a per-frame linear map, larger odd kernels mix neighbouring
/// frames). Padding frames are zeroed first, so neither their values nor a stray -inf can leak into real frames.
/// </summary>
/// <remarks>
/// The weight keeps the convolution's layout and name (<c>conv.weight</c>, [width, inputFeatures, kernel]), so saved
/// models, MulT checkpoints and the ONNX exporter see a <c>Conv1d</c>; it is applied as one matrix product over
/// each frame's window instead. The result is the same convolution, and libtorch's CPU convolution is never
/// called: it probes NNPACK on every call and prints a warning per call on CPUs NNPACK does not support.
/// </remarks>
public sealed class ModalityProjection : Module<Tensor, Tensor?, Tensor>
{
    private readonly Conv1d conv;

    private readonly string _modality;
    private readonly long _inputFeatures;
    private readonly long _width;

    /// <summary>Creates the projection.</summary>
    /// <param name="modality">Name used in error messages, e.g. "acoustic".</param>
    /// <param name="inputFeatures">Raw feature size (e.g. 5 for COVAREP on CMU-MOSI in MMSA).</param>
    /// <param name="width">Shared fusion width.</param>
    /// <param name="kernelSize">Odd temporal kernel size; the sequence length is preserved.</param>
    public ModalityProjection(string modality, long inputFeatures, long width, long kernelSize = 1) : this(modality, inputFeatures, width, kernelSize, null) { }

    /// <inheritdoc cref="ModalityProjection(string, long, long, long)"/>
    /// <param name="modality">Name used in error messages.</param>
    /// <param name="inputFeatures">Raw feature size.</param>
    /// <param name="width">Shared fusion width.</param>
    /// <param name="kernelSize">Odd temporal kernel size.</param>
    /// <param name="device">Where the weights are created (<c>meta</c>: shapes only, for checks before anything is allocated).</param>
    internal ModalityProjection(string modality, long inputFeatures, long width, long kernelSize, Device? device) : base(nameof(ModalityProjection))
    {
        SettingRules.ThrowIfAny($"{modality} projection", SettingRules.Collect(
            SettingRules.AtLeast(nameof(inputFeatures), inputFeatures, 1),
            SettingRules.FusionWidth(nameof(width), width),
            SettingRules.OddKernel(nameof(kernelSize), kernelSize)));

        _modality = modality;
        _inputFeatures = inputFeatures;
        _width = width;
        conv = Conv1d(inputFeatures, width, kernelSize, padding: kernelSize / 2, bias: false, device: device);
        RegisterComponents();
    }

    /// <summary>Raw feature size this projection expects.</summary>
    public long InputFeatures => _inputFeatures;

    /// <summary>Projects [batch, seq, inputFeatures] to [batch, seq, width].</summary>
    /// <param name="features">Raw features [batch, seq, inputFeatures].</param>
    /// <param name="mask">[batch, seq] (true = real), or null when nothing is padded.</param>
    public override Tensor forward(Tensor features, Tensor? mask)
    {
        if (features.dim() != 3 || features.shape[2] != _inputFeatures)
            throw new ShapeMismatchException($"{_modality} features", $"[batch, seq, {_inputFeatures}]", features.shape);
        if (mask is not null && (mask.dim() != 2 || mask.shape[0] != features.shape[0] || mask.shape[1] != features.shape[1]))
            throw new ShapeMismatchException($"{_modality} mask", $"[{features.shape[0]}, {features.shape[1]}]", mask.shape);

        using var scope = NewDisposeScope();
        var x = mask is null ? features : features.masked_fill(mask.to(ScalarType.Bool).unsqueeze(2).logical_not(), Zero);
        return Convolve(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 'same'-padded, bias-free convolution over time of [batch, seq, in] as a matrix product: each frame's window
    /// of <c>k</c> frames (zeros beyond the ends), laid out [in, k] like the weight's last two dimensions, times the
    /// weight flattened to [width, in·k].
    /// </summary>
    private Tensor Convolve(Tensor x)
    {
        var weight = conv.weight!;
        long kernel = weight.shape[2];
        if (kernel == 1) return functional.linear(x, weight.squeeze(2));
        long half = kernel / 2;
        var padded = functional.pad(x, [0, 0, half, half]);       // [batch, seq + 2·half, in]
        var windows = padded.unfold(1, kernel, 1);                  // [batch, seq, in, k]
        return functional.linear(windows.flatten(2), weight.flatten(1));
    }
}
