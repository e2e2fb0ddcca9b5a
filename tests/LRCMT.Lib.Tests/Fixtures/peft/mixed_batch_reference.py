"""PEFT's mixed-adapter batch (adapter_names per sample) on a small two-layer model, from its published definition
(PyTorch 1.13, no PEFT needed), for MixedAdapterBatchTests.

    /usr/bin/python3 mixed_batch_reference.py      # writes mixed_batch.safetensors next to this script

Definition (peft/tuners/lora/layer.py Linear._mixed_batch_forward): each LoRA layer computes the base output
y = x W^T + b for the whole batch, then for every adapter name in the batch other than "__base__" that the layer
carries, takes the rows of the samples using it, x_g, and adds s * B A x_g to their rows of y (no dropout: inference).
The model is up = Linear(6, 10), GELU, down = Linear(10, 6) on [batch, 3, 6]; adapter "a" (r = 2, alpha = 4) on up and
down, adapter "b" (r = 3, alpha = 3, rsLoRA: s = 3 / sqrt(3)) on down only. Samples use a, __base__, b, a, b.
"""
import math, os
import torch
import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ["a", "__base__", "b", "a", "b"]
ADAPTERS = {"a": {"layers": ["up", "down"], "r": 2, "s": 4 / 2}, "b": {"layers": ["down"], "r": 3, "s": 3 / math.sqrt(3)}}


def lora_layer(x, name, weights):
    y = x @ weights[f"{name}.weight"].t() + weights[f"{name}.bias"]
    for adapter in dict.fromkeys(NAMES):
        if adapter == "__base__" or name not in ADAPTERS[adapter]["layers"]:
            continue
        rows = [i for i, n in enumerate(NAMES) if n == adapter]
        a = weights[f"{name}.lora_A.{adapter}.weight"]
        b = weights[f"{name}.lora_B.{adapter}.weight"]
        y[rows] = y[rows] + ADAPTERS[adapter]["s"] * (x[rows] @ a.t() @ b.t())
    return y


def main():
    g = torch.Generator().manual_seed(31)
    weights = {
        "up.weight": torch.randn(10, 6, generator=g) * 0.4, "up.bias": torch.randn(10, generator=g) * 0.1,
        "down.weight": torch.randn(6, 10, generator=g) * 0.4, "down.bias": torch.randn(6, generator=g) * 0.1,
    }
    for adapter, spec in ADAPTERS.items():
        for layer in spec["layers"]:
            inp, out = weights[f"{layer}.weight"].shape[1], weights[f"{layer}.weight"].shape[0]
            weights[f"{layer}.lora_A.{adapter}.weight"] = torch.randn(spec["r"], inp, generator=g) * 0.5
            weights[f"{layer}.lora_B.{adapter}.weight"] = torch.randn(out, spec["r"], generator=g) * 0.5
    x = torch.randn(len(NAMES), 3, 6, generator=g)
    with torch.no_grad():
        hidden = torch.nn.functional.gelu(lora_layer(x, "up", weights))
        y = lora_layer(hidden, "down", weights)
    safetensors_io.write(os.path.join(HERE, "mixed_batch.safetensors"), {**weights, "input": x, "output": y},
                         metadata={"format": "pt", "adapter_names": ",".join(NAMES)})


if __name__ == "__main__":
    main()
