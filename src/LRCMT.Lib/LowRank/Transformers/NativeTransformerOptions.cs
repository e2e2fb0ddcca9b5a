using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// Hyper-parameters of a native TorchSharp transformer module that its parameters do not reveal. Leave a value null
/// to let <see cref="NativeTransformerConverter"/> find it: the head count and activation are inferred by running
/// the native module and the candidates on a probe input and keeping the one that reproduces the output; dropout
/// defaults to TorchSharp's factory defaults (0.1 for encoder layers, 0 for bare multi-head attention).
/// </summary>
/// <param name="NumHeads">Number of attention heads.</param>
/// <param name="Activation">Feed-forward activation (encoder layers only).</param>
/// <param name="Dropout">Dropout probability.</param>
public sealed record NativeTransformerOptions(long? NumHeads = null, nn.Activations? Activation = null, double? Dropout = null);
