"""LoRA+ optimizer groups (Hayou et al., 2024, "LoRA+: Efficient Low Rank Adaptation of Large Models"; PEFT's
create_loraplus_optimizer) on a tiny model, from the published definition (PyTorch 1.13, no PEFT), for LoraPlusTests.

    /usr/bin/python3 loraplus_reference.py      # writes loraplus.safetensors next to this script

Definition: the B matrix of every LoRA adapter trains at loraplus_lr_ratio x the learning rate of A; embedding tables
train at loraplus_lr_embedding; everything else at the base learning rate. Here: ids [2, 3] -> embed = Embedding(5, 6)
(trainable) -> proj = Linear(6, 4) frozen with one LoRA adapter "default" (r = 2, alpha = 4, s = 2; A and B random so
both get gradients) -> loss = mean((y - target)^2). AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01) with groups
A: lr 1e-2, B: lr 16 x 1e-2, embedding: lr 1e-3; three steps. Writes the initial weights, ids, target and the weights
after the three steps (keys "final.<name>").
"""
import os
import torch
import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
LR, RATIO, LR_EMBEDDING, DECAY, STEPS, SCALING = 1e-2, 16.0, 1e-3, 0.01, 3, 4 / 2


def main():
    g = torch.Generator().manual_seed(47)
    w = {
        "embed.weight": torch.randn(5, 6, generator=g),
        "proj.weight": torch.randn(4, 6, generator=g) * 0.4,
        "proj.bias": torch.randn(4, generator=g) * 0.1,
        "proj.lora_A.default.weight": torch.randn(2, 6, generator=g) * 0.5,
        "proj.lora_B.default.weight": torch.randn(4, 2, generator=g) * 0.5,
    }
    ids = torch.randint(0, 5, (2, 3), generator=g)
    target = torch.randn(2, 3, 4, generator=g)
    trained = {k: v.clone().requires_grad_(k not in ("proj.weight", "proj.bias")) for k, v in w.items()}
    optimizer = torch.optim.AdamW([
        {"params": [trained["proj.lora_A.default.weight"]], "lr": LR},
        {"params": [trained["proj.lora_B.default.weight"]], "lr": LR * RATIO},
        {"params": [trained["embed.weight"]], "lr": LR_EMBEDDING},
    ], lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=DECAY)
    for _ in range(STEPS):
        optimizer.zero_grad()
        x = trained["embed.weight"][ids]
        y = x @ trained["proj.weight"].t() + trained["proj.bias"] \
            + SCALING * (x @ trained["proj.lora_A.default.weight"].t() @ trained["proj.lora_B.default.weight"].t())
        loss = ((y - target) ** 2).mean()
        loss.backward()
        optimizer.step()
    out = {**w, "ids": ids, "target": target}
    out.update({f"final.{k}": v.detach() for k, v in trained.items()})
    safetensors_io.write(os.path.join(HERE, "loraplus.safetensors"), out)


if __name__ == "__main__":
    main()
