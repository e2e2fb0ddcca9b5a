"""PyTorch + PEFT half of the GPU comparison (see run-gpu-bench.sh).

Loads the exact initial weights and batch the .NET side wrote (weights.safetensors: a Hugging Face BertModel
state dict plus LoRA tensors under "<module>.lora_A.default.weight"; batch.safetensors: input_ids,
attention_mask), builds transformers' BertModel + PEFT LoRA (r=8, alpha=16, query+value, no dropout), copies
the adapters in, and times the same AdamW training step on CUDA. With --dtype bf16 the base is cast to
bfloat16 before PEFT wraps it; PEFT keeps adapters in float32 (autocast_adapter_dtype=True), as the library does.
Prints "RESULT pytorch DTYPE min_ms median_ms max_allocated_mb max_reserved_mb".
"""
import argparse
import os
import time

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file
from transformers import BertConfig, BertModel

parser = argparse.ArgumentParser()
parser.add_argument("directory")
parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
parser.add_argument("--steps", type=int, default=20)
args = parser.parse_args()

weights = load_file(os.path.join(args.directory, "weights.safetensors"))
batch = load_file(os.path.join(args.directory, "batch.safetensors"))
base = {k: v for k, v in weights.items() if ".lora_" not in k}
lora = {k: v for k, v in weights.items() if ".lora_" in k}

config = BertConfig(add_pooling_layer=False)  # bert-base-uncased shape, dropout 0.1 as in the .NET model
model = BertModel(config, add_pooling_layer=False)
missing, unexpected = model.load_state_dict(base, strict=False)
assert not unexpected, unexpected
assert all("position_ids" in m for m in missing), missing
if args.dtype == "bf16":
    model = model.to(torch.bfloat16)
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["query", "value"]))
with torch.no_grad():
    for key, value in lora.items():
        module_path, kind = key.split(".lora_")
        module = model.base_model.model.get_submodule(module_path)
        target = (module.lora_A if kind.startswith("A") else module.lora_B)["default"].weight
        assert target.shape == value.shape, (key, target.shape, value.shape)
        target.copy_(value)
model = model.cuda()
model.train()

trainable = [p for p in model.parameters() if p.requires_grad]
assert all(p.dtype == torch.float32 for p in trainable)
optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
ids = batch["input_ids"].cuda()
mask = batch["attention_mask"].cuda()

times = []
torch.cuda.reset_peak_memory_stats()
for step in range(args.steps + 5):
    torch.cuda.synchronize()
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    hidden.float().pow(2).mean().backward()
    optimizer.step()
    torch.cuda.synchronize()
    if step >= 5:
        times.append((time.perf_counter() - start) * 1000)
times.sort()
print(f"RESULT pytorch {args.dtype} {times[0]:.2f} {times[len(times) // 2]:.2f} "
      f"{torch.cuda.max_memory_allocated() / 2**20:.0f} {torch.cuda.max_memory_reserved() / 2**20:.0f}")
