namespace LRCMT.TextEncoders;

/// <summary>
/// The element type the frozen text-encoder base is held and computed in. Adapters, fusion, head and optimizer
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
}
