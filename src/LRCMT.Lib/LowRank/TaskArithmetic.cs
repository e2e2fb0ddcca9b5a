using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// The merge rules PEFT applies to a stack of same-shaped "task tensors" tᵢ with weights wᵢ (its
/// <c>utils/merge_utils</c>): a weighted sum (task arithmetic, Ilharco et al. 2023), magnitude pruning, TIES
/// (Yadav et al. 2023: prune, elect a sign, average the agreeing entries) and DARE (Yu et al. 2024: drop at random and
/// rescale). Pruning keeps a share <c>density</c> of the entries; a density of 1 or more keeps everything.
/// </summary>
internal static class TaskArithmetic
{
    /// <summary>Draws a 0/1 mask shaped like a tensor, each entry 1 with probability density.</summary>
    public delegate Tensor MaskDraw(Tensor like, double density);

    /// <summary>Σ wᵢ·tᵢ.</summary>
    public static Tensor WeightedSum(IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights)
        => Weighted(stack(tasks), weights).sum(0L);

    /// <summary>Σ wᵢ·prune_magnitude(tᵢ).</summary>
    public static Tensor MagnitudePrune(IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights, double density)
        => WeightedSum(tasks.Select(t => KeepLargest(t, density)).ToList(), weights);

    /// <summary>Σ wᵢ·prune_random(tᵢ)/density.</summary>
    public static Tensor DareLinear(IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights, double density, MaskDraw draw)
        => WeightedSum(tasks.Select(t => DropAtRandom(t, density, draw)).ToList(), weights);

    /// <summary>TIES: magnitude-prune each, elect a sign per entry from the pruned tensors, average the weighted entries that agree with it.</summary>
    public static Tensor Ties(IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights, double density, MajoritySignMethod sign)
        => DisjointMean(stack(tasks.Select(t => KeepLargest(t, density)).ToArray()), weights, sign);

    /// <summary>DARE-TIES: random drop with rescaling, then TIES's sign election and disjoint mean.</summary>
    public static Tensor DareTies(IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights, double density, MajoritySignMethod sign, MaskDraw draw)
        => DisjointMean(stack(tasks.Select(t => DropAtRandom(t, density, draw)).ToArray()), weights, sign);

    /// <summary>Keeps the int(density·n) entries of largest magnitude, zeroes the rest.</summary>
    public static Tensor KeepLargest(Tensor task, double density)
    {
        if (density >= 1) return task;
        long keep = (long)(density * task.numel());
        var flat = task.reshape(-1);
        var mask = zeros_like(flat);
        if (keep > 0) mask.index_fill_(0, flat.abs().topk((int)keep).indexes, One);
        return task.mul(mask.reshape(task.shape));
    }

    /// <summary>Keeps each entry with probability density (the mask from <paramref name="draw"/>) and divides by density.</summary>
    public static Tensor DropAtRandom(Tensor task, double density, MaskDraw draw)
    {
        if (density >= 1) return task;
        using Scalar d = density;
        return task.mul(draw(task, density)).div(d);
    }

    /// <summary>The mask of entries whose sign is the elected one (the sign of the total, or of the count; 0 counts as +).</summary>
    public static Tensor MajoritySignMask(Tensor stacked, MajoritySignMethod method)
    {
        var signs = stacked.sign();
        var evidence = method == MajoritySignMethod.Total ? stacked.sum(0L) : signs.sum(0L);
        var elected = where(evidence.ge(Zero), ones_like(evidence), ones_like(evidence).neg());
        return signs.eq(elected);
    }

    private static Tensor DisjointMean(Tensor stacked, IReadOnlyList<double> weights, MajoritySignMethod sign)
    {
        var agree = MajoritySignMask(stacked, sign);
        var total = Weighted(stacked, weights).mul(agree).sum(0L);
        var count = agree.sum(0L).to(total.dtype).clamp_min(One);
        return total.div(count);
    }

    private static Tensor Weighted(Tensor stacked, IReadOnlyList<double> weights)
    {
        var shape = new long[stacked.dim()];
        Array.Fill(shape, 1L);
        shape[0] = weights.Count;
        var w = tensor(weights.Select(v => (float)v).ToArray(), dtype: stacked.dtype, device: stacked.device).reshape(shape);
        return stacked.mul(w);
    }
}
