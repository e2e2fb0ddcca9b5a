"""PEFT's LoRA on nn.MultiheadAttention, computed by hand (PyTorch 1.13, no PEFT needed), for the parity test.

    /usr/bin/python3 mha_reference.py

PEFT's lora.MultiheadAttention (peft/tuners/lora/layer.py) targets the attention module itself: one lora_A [r, E]
and one lora_B [3E, r] over the packed in_proj_weight, and a nested lora.Linear on out_proj; its forward merges
W_in + s*B@A and W_out + s*B_o@A_o, runs the base module, and unmerges (so no LoRA dropout). This script builds an
nn.TransformerEncoderLayer from a fixed seed, writes its weights (mha/base.safetensors), an adapter folder laid out
as PEFT's save_pretrained writes it for target_modules=["self_attn"] (mha/adapter/), and the input and the output
of the layer with the merged weights (mha/io.safetensors).
"""
import collections, json, os, sys
import torch

# The one safetensors reader/writer of the fixture scripts lives beside the PEFT references.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peft"))
import safetensors_io  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mha")
E, HEADS, FF, R, ALPHA = 8, 2, 16, 2, 4


def write_safetensors(path, tensors):
    """Every tensor as float32, through the fixture scripts' one safetensors writer."""
    safetensors_io.write(path, {name: t.detach().to(torch.float32) for name, t in tensors.items()})


def main():
    torch.manual_seed(1234)
    layer = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0)
    layer.eval()
    g = torch.Generator().manual_seed(99)
    a_in, b_in = torch.randn(R, E, generator=g) * 0.3, torch.randn(3 * E, R, generator=g) * 0.3
    a_out, b_out = torch.randn(R, E, generator=g) * 0.3, torch.randn(E, R, generator=g) * 0.3
    x = torch.randn(5, 2, E, generator=g)
    scaling = ALPHA / R

    os.makedirs(os.path.join(HERE, "adapter"), exist_ok=True)
    write_safetensors(os.path.join(HERE, "base.safetensors"), collections.OrderedDict(layer.state_dict()))
    with torch.no_grad():
        layer.self_attn.in_proj_weight += scaling * (b_in @ a_in)
        layer.self_attn.out_proj.weight += scaling * (b_out @ a_out)
        y = layer(x)
    write_safetensors(os.path.join(HERE, "io.safetensors"), {"input": x, "output": y})
    write_safetensors(os.path.join(HERE, "adapter", "adapter_model.safetensors"), collections.OrderedDict([
        ("base_model.model.self_attn.base_layer.out_proj.lora_A.weight", a_out),
        ("base_model.model.self_attn.base_layer.out_proj.lora_B.weight", b_out),
        ("base_model.model.self_attn.lora_A.weight", a_in),
        ("base_model.model.self_attn.lora_B.weight", b_in),
    ]))
    config = {"peft_type": "LORA", "r": R, "lora_alpha": ALPHA, "lora_dropout": 0.0, "target_modules": ["self_attn"],
              "bias": "none", "init_lora_weights": True, "task_type": None, "peft_version": "0.21.0",
              "base_model_name_or_path": None, "fan_in_fan_out": False, "use_rslora": False, "use_dora": False}
    with open(os.path.join(HERE, "adapter", "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
