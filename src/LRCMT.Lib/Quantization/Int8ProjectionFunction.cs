using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// y = x · (q · s)ᵀ + b as one autograd node that keeps only the int8 codes and scales for backward. Plain
/// <c>F.linear</c> on a dequantised weight would keep that float32 weight alive until backward — for every layer of
/// the model at once, as much memory as a float32 base. Here backward dequantises again: dL/dx = dL/dy · (q · s).
/// The codes, scales and bias are frozen, so they get no gradient.
/// </summary>
internal sealed class Int8ProjectionFunction : autograd.SingleTensorFunction<Int8ProjectionFunction>
{
    private const string CodesKey = "lrcmt.codes", ScalesKey = "lrcmt.scales", CountKey = "lrcmt.count";

    public override string Name => "Int8Projection";

    public static Tensor Apply(Tensor input, Tensor codes, Tensor scales, Tensor? bias)
        => bias is null ? apply(input, codes, scales) : apply(input, codes, scales, bias);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (input, codes, scales) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        var bias = vars.Length > 3 ? (Tensor)vars[3] : null;
        ctx.save_data(CodesKey, codes);
        ctx.save_data(ScalesKey, scales);
        ctx.save_data(CountKey, vars.Length);
        using var scope = NewDisposeScope();
        // TorchSharp runs this with gradients on: without no_grad the inner linear would record its own node and keep
        // the dequantised weight for backward after all.
        using var noGrad = no_grad();
        var weight = Int8Weights.Dequantize(codes, scales, input.dtype);
        return nn.functional.linear(input, weight, bias?.to(input.dtype)).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var codes = (Tensor)ctx.get_data(CodesKey);
        var scales = (Tensor)ctx.get_data(ScalesKey);
        // Returned tensors must outlive this call (libtorch takes them after it returns): no dispose scope around them.
        Tensor gradInput;
        using (var weight = Int8Weights.Dequantize(codes, scales, grad_output.dtype))
            gradInput = grad_output.matmul(weight);
        var gradients = new List<Tensor> { gradInput };
        for (int i = 1; i < (int)ctx.get_data(CountKey); i++) gradients.Add(null!);
        return gradients;
    }
}
