namespace LRCMT.LowRank;

/// <summary>How a new adapter's matrices are initialised (PEFT's <c>init_lora_weights</c>).</summary>
public enum LoRAInit
{
    /// <summary>A Kaiming-uniform (a = √5), B zero: the adapted layer starts equal to the base (PEFT <c>true</c>).</summary>
    Default,

    /// <summary>A normal with standard deviation 1/r, B zero (PEFT <c>"gaussian"</c>).</summary>
    Gaussian,

    /// <summary>A and B both Kaiming-uniform, so the adapter changes the output at once; for tests (PEFT <c>false</c>).</summary>
    BothRandom,
}
