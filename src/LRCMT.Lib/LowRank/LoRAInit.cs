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

    /// <summary>
    /// PiSSA (Meng et al. 2024, PEFT <c>"pissa"</c>): the r principal singular triplets of W0 = V·S·Uᵀ move into the
    /// adapter, A = diag(√(S_r/s))·U_rᵀ and B = V_r·diag(√(S_r/s)), and W0 becomes the residual W0 − s·B·A, so the
    /// output does not change. With <see cref="LoRAConfig.PissaIterations"/> set, the SVD is the randomised one of
    /// <c>torch.svd_lowrank</c> with that many subspace iterations (PEFT <c>"pissa_niter_k"</c>).
    /// </summary>
    PiSSA,

    /// <summary>
    /// OLoRA (Büyükakyüz 2024, PEFT <c>"olora"</c>): W0 = Q·R (thin QR), B = Q[:, :r], A = R[:r], and W0 becomes
    /// W0 − s·B·A, so the output does not change.
    /// </summary>
    OLoRA,
}
