using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>Maps a Hugging Face <c>hidden_act</c> name to its function.</summary>
internal static class BertActivation
{
    private static readonly double TanhGeluScale = Math.Sqrt(2.0 / Math.PI);

    public static Func<Tensor, Tensor> FromName(string name) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        // gelu_new is the original BERT/GPT-2 tanh approximation; gelu_pytorch_tanh is the same formula in one kernel.
        "gelu_new" or "gelu_pytorch_tanh" => TanhGelu,
        "relu" => x => nn.functional.relu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unsupported hidden_act; BertConfig.Validate lists the supported ones."),
    };

    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    private static Tensor TanhGelu(Tensor x)
    {
        using var scope = NewDisposeScope();
        using Scalar three = 3, cubic = 0.044715, scale = TanhGeluScale, half = 0.5;
        var inner = x.add(x.pow(three).mul(cubic), One).mul(scale);
        return x.mul(half).mul(inner.tanh().add(One, One)).MoveToOuterDisposeScope();
    }
}
