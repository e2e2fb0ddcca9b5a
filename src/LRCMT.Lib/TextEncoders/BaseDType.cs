namespace LRCMT.TextEncoders;

/// <summary>
/// The element type the frozen text-encoder base is held (and, for the float types, computed) in. Adapters, fusion, head and optimizer
/// state stay float32 whatever this is (see <see cref="BasePrecision"/>).
/// </summary>
public enum BaseDType
{
    /// <summary>float32 (default): no conversion.</summary>
    Float32,

    /// <summary>bfloat16: half the memory of the base, float32's range, 8 significant bits.</summary>
    BFloat16,

    /// <summary>float16: half the memory, 11 significant bits but a range that ends at 65504.</summary>
    Float16,

    /// <summary>
    /// int8 weights for the projections (a quarter of float32's memory), per output channel with a float32 scale
    /// (<see cref="Quantization.QuantizedLinear"/>), dequantised per layer on the fly to bfloat16; embeddings, LayerNorm
    /// and biases are held in bfloat16 and the base computes in bfloat16, as a <see cref="BFloat16"/> base does. Load it
    /// with <c>FromPretrained(folder, BaseDType.Int8)</c>, or quantize a loaded encoder with <see cref="BasePrecision.Apply"/>
    /// before LoRA is injected.
    /// </summary>
    Int8,
}
