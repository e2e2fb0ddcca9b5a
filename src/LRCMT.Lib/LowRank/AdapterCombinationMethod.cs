namespace LRCMT.LowRank;

/// <summary>
/// How <see cref="AdapterControl.AddWeightedAdapter"/> combines adapters (PEFT's <c>combination_type</c>). The methods
/// without "Svd" combine the A and B matrices themselves (each adapter's A weighted by sign(w·s)·√|w·s|, its B by
/// √|w·s|); the "Svd" ones combine the updates ΔWᵢ = sᵢ·Bᵢ·Aᵢ weighted by wᵢ·sᵢ and factor the result back with a
/// truncated SVD. s is each adapter's scaling on the layer, w its weight.
/// </summary>
public enum AdapterCombinationMethod
{
    /// <summary>Σ wᵢ·sᵢ·ΔWᵢ, then a truncated SVD to <see cref="AdapterCombination.SvdRank"/> (PEFT <c>"svd"</c>, its default).</summary>
    Svd,

    /// <summary>A = Σ sign·√|wᵢsᵢ|·Aᵢ, B = Σ √|wᵢsᵢ|·Bᵢ; every adapter must have the same rank (PEFT <c>"linear"</c>).</summary>
    Linear,

    /// <summary>A = [w₁s₁·A₁; w₂s₂·A₂; …], B = [B₁, B₂, …]: exact, rank = the sum of the ranks (PEFT <c>"cat"</c>).</summary>
    Cat,

    /// <summary>TIES on A and on B: keep the largest |values| (density), elect a sign per entry, average the agreeing ones (PEFT <c>"ties"</c>).</summary>
    Ties,

    /// <summary>TIES on the updates ΔWᵢ, then a truncated SVD (PEFT <c>"ties_svd"</c>).</summary>
    TiesSvd,

    /// <summary>DARE: drop entries at random (keep each with probability density, rescale by 1/density), then a weighted sum, on A and on B (PEFT <c>"dare_linear"</c>).</summary>
    DareLinear,

    /// <summary>DARE on the updates, then a truncated SVD (PEFT <c>"dare_linear_svd"</c>).</summary>
    DareLinearSvd,

    /// <summary>DARE's random drop, then TIES's sign election and disjoint mean, on A and on B (PEFT <c>"dare_ties"</c>).</summary>
    DareTies,

    /// <summary>DARE-TIES on the updates, then a truncated SVD (PEFT <c>"dare_ties_svd"</c>).</summary>
    DareTiesSvd,

    /// <summary>Keep the largest |values| (density), then a weighted sum, on A and on B (PEFT <c>"magnitude_prune"</c>).</summary>
    MagnitudePrune,

    /// <summary>Magnitude pruning on the updates, then a truncated SVD (PEFT <c>"magnitude_prune_svd"</c>).</summary>
    MagnitudePruneSvd,
}
