"""PEFT's add_weighted_adapter on one layer, from its published definitions (PyTorch 1.13, no PEFT needed), for
WeightedAdapterTests.

    /usr/bin/python3 weighted_adapter_reference.py      # writes weighted_adapter.safetensors next to this script

Definitions (peft/tuners/lora/model.py add_weighted_adapter and peft/utils/merge_utils.py, PEFT 0.21):
  every source i has A_i [r_i, in], B_i [out, r_i], scaling s_i and weight w_i (negative allowed).
  cat        A = [w_1 s_1 A_1; w_2 s_2 A_2; ...],  B = [B_1, B_2, ...]   (rank = sum of ranks)
  linear / ties / dare_linear / dare_ties / magnitude_prune  (equal ranks): merge the A_i with weights
             sign(w_i s_i) sqrt|w_i s_i| and, separately, the B_i with weights sqrt|w_i s_i|:
    task arithmetic    sum_i w_i t_i
    magnitude_prune    keep the int(density n) largest |entries| of each t_i, then task arithmetic
    ties               magnitude-prune each t_i; elect sign(sum_i t_i) (total) or sign(sum_i sign t_i) (frequency) per
                       entry, 0 counting as +; mean of the weighted entries whose sign is the elected one
                       (sum / max(count, 1))
    dare_linear        t_i * bernoulli(density) / density, then task arithmetic
    dare_ties          the same drop, then ties's election and disjoint mean
  *_svd      merge the updates dW_i = s_i B_i A_i with weights w_i s_i by the rule above, then
             U S Vh = svd(merged); B = U[:, :r] diag(S[:r]), A = Vh[:r]; with svd_clamp q: both clamped to
             +-quantile(cat(B, A), q).
  The new adapter has lora_alpha = r (scaling 1).
The random masks are written here (in the order they are drawn: A's of each source, then B's; or each update), so the
test can feed the same masks to the C# code.
"""
import os
import torch
import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_F, IN_F = 8, 10


def keep_largest(t, density):
    if density >= 1:
        return t
    k = int(density * t.numel())
    mask = torch.zeros(t.numel())
    if k > 0:
        mask[torch.topk(t.abs().reshape(-1), k).indices] = 1
    return t * mask.reshape(t.shape)


def drop(t, density, masks, g):
    if density >= 1:
        return t
    mask = torch.bernoulli(torch.full(t.shape, density), generator=g)
    masks.append(mask)
    return t * mask / density


def weighted(stacked, w):
    return stacked * torch.tensor(w, dtype=torch.float32).reshape([-1] + [1] * (stacked.dim() - 1))


def elected_mask(stacked, method):
    signs = stacked.sign()
    evidence = stacked.sum(0) if method == "total" else signs.sum(0)
    elected = torch.where(evidence >= 0, torch.ones_like(evidence), -torch.ones_like(evidence))
    return signs == elected


def disjoint_mean(stacked, w, method):
    agree = elected_mask(stacked, method)
    total = (weighted(stacked, w) * agree).sum(0)
    return total / torch.clamp(agree.sum(0).float(), min=1.0)


def merge(rule, tasks, w, density, sign, masks, g):
    if rule == "linear":
        return weighted(torch.stack(tasks), w).sum(0)
    if rule == "magnitude_prune":
        return weighted(torch.stack([keep_largest(t, density) for t in tasks]), w).sum(0)
    if rule == "dare_linear":
        return weighted(torch.stack([drop(t, density, masks, g) for t in tasks]), w).sum(0)
    if rule == "ties":
        return disjoint_mean(torch.stack([keep_largest(t, density) for t in tasks]), w, sign)
    if rule == "dare_ties":
        return disjoint_mean(torch.stack([drop(t, density, masks, g) for t in tasks]), w, sign)
    raise ValueError(rule)


def combine(method, sources, weights, rank, density=None, sign="total", clamp=None, g=None):
    masks = []
    if method == "cat":
        a = torch.cat([s["A"] * w * s["s"] for s, w in zip(sources, weights)], 0)
        b = torch.cat([s["B"] for s in sources], 1)
        return a, b, masks
    if method.endswith("svd"):
        rule = "linear" if method == "svd" else method[: -len("_svd")]
        deltas = [s["s"] * (s["B"] @ s["A"]) for s in sources]
        merged = merge(rule, deltas, [w * s["s"] for s, w in zip(sources, weights)], density, sign, masks, g)
        u, sv, vh = torch.linalg.svd(merged, full_matrices=False)
        b = u[:, :rank] @ torch.diag(sv[:rank])
        a = vh[:rank]
        if clamp is not None:
            hi = torch.quantile(torch.cat([b.flatten(), a.flatten()]), clamp)
            b, a = b.clamp(-hi, hi), a.clamp(-hi, hi)
        return a, b, masks
    ws = [w * s["s"] for s, w in zip(sources, weights)]
    wa = [(1.0 if x >= 0 else -1.0) * abs(x) ** 0.5 for x in ws]
    wb = [abs(x) ** 0.5 for x in ws]
    a = merge(method, [s["A"] for s in sources], wa, density, sign, masks, g)
    b = merge(method, [s["B"] for s in sources], wb, density, sign, masks, g)
    return a, b, masks


CASES = [
    # name, method, adapters, weights, rank, density, sign, clamp
    ("linear", "linear", "abc", [0.7, -0.4, 1.2], 2, None, "total", None),
    ("cat", "cat", "abd", [0.7, -0.4, 1.2], 7, None, "total", None),
    ("svd", "svd", "abd", [0.7, -0.4, 1.2], 3, None, "total", None),
    ("svd_clamp", "svd", "abd", [0.7, -0.4, 1.2], 3, None, "total", 0.9),
    ("ties", "ties", "abc", [0.7, -0.4, 1.2], 2, 0.5, "total", None),
    ("ties_frequency", "ties", "abc", [0.7, -0.4, 1.2], 2, 0.5, "frequency", None),
    ("ties_svd", "ties_svd", "abd", [0.7, -0.4, 1.2], 3, 0.5, "total", None),
    ("magnitude_prune", "magnitude_prune", "abc", [0.7, -0.4, 1.2], 2, 0.6, "total", None),
    ("magnitude_prune_svd", "magnitude_prune_svd", "abd", [0.7, -0.4, 1.2], 3, 0.6, "total", None),
    ("dare_linear", "dare_linear", "abc", [0.7, -0.4, 1.2], 2, 0.5, "total", None),
    ("dare_ties", "dare_ties", "abc", [0.7, -0.4, 1.2], 2, 0.5, "frequency", None),
    ("dare_linear_svd", "dare_linear_svd", "abd", [0.7, -0.4, 1.2], 3, 0.5, "total", None),
    ("dare_ties_svd", "dare_ties_svd", "abd", [0.7, -0.4, 1.2], 3, 0.5, "total", None),
]


def main():
    g = torch.Generator().manual_seed(26)
    # a, b, c: rank 2 with different scalings (alpha / r); d: rank 3 (for cat and the svd methods)
    specs = {"a": (2, 4.0), "b": (2, 2.0), "c": (2, 3.0), "d": (3, 3.0)}
    sources = {}
    out = {}
    for name, (r, alpha) in specs.items():
        a = torch.randn(r, IN_F, generator=g) * 0.5
        b = torch.randn(OUT_F, r, generator=g) * 0.5
        sources[name] = {"A": a, "B": b, "s": alpha / r}
        out[f"source_{name}_A"], out[f"source_{name}_B"] = a, b
    mask_gen = torch.Generator().manual_seed(7)
    for case, method, names, weights, rank, density, sign, clamp in CASES:
        a, b, masks = combine(method, [sources[n] for n in names], weights, rank, density, sign, clamp, mask_gen)
        out[f"{case}_A"], out[f"{case}_B"] = a, b
        for i, m in enumerate(masks):
            out[f"{case}_mask{i}"] = m
    safetensors_io.write(os.path.join(HERE, "weighted_adapter.safetensors"), out)


if __name__ == "__main__":
    main()
