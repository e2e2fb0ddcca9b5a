"""PyTorch half of the `user-loop` benchmark group: full fine-tuning of a BERT written out in plain PyTorch.

The model is BERT as Hugging Face's BertModel computes it in eager mode (written here from the architecture, so the
comparison needs only torch): word + position + token-type embeddings, LayerNorm, dropout 0.1; per layer q/k/v
projections, softmax(q k^T / sqrt(d) + mask) with dropout, output projection + dropout + residual LayerNorm, GELU
feed-forward + dropout + residual LayerNorm; a tanh pooler on the first token. The loop is the one a user writes, the
same as the .NET side's (UserLoopChild.cs): zero_grad(set_to_none=True), forward, loss = mean(last_hidden_state^2),
backward, AdamW(lr 1e-4, weight_decay 0.01) step; one thread; random ids [batch, seq], the second half of sample 0
padded. Prints one line:
RESULT min_ms median_ms peak_mb end_rss_mb trainable growth_mb_per_step forward_ms backward_ms update_ms
(peak = VmHWM of this process, read the same way as the .NET side reads its own).

usage: python3 pytorch_user_loop.py minilm|bert-base BATCH SEQ STEPS
"""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {  # hidden, layers, heads, feed-forward (BertSizes.cs)
    "minilm": (384, 6, 12, 1536),
    "bert-base": (768, 12, 12, 3072),
}
VOCAB, POSITIONS, TYPES, DROPOUT, EPS = 30522, 512, 2, 0.1, 1e-12


def status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Layer(nn.Module):
    def __init__(self, hidden, heads, inner):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.attention_output = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=EPS)
        self.intermediate = nn.Linear(hidden, inner)
        self.output = nn.Linear(inner, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=EPS)
        self.dropout = nn.Dropout(DROPOUT)

    def forward(self, x, mask_bias):
        batch, seq, hidden = x.shape
        size = hidden // self.heads

        def heads(y):
            return y.view(batch, seq, self.heads, size).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(size) + mask_bias
        context = (self.dropout(scores.softmax(-1)) @ v).transpose(1, 2).reshape(batch, seq, hidden)
        x = self.attention_norm(x + self.dropout(self.attention_output(context)))
        return self.output_norm(x + self.dropout(self.output(F.gelu(self.intermediate(x)))))


class Bert(nn.Module):
    def __init__(self, hidden, layers, heads, inner):
        super().__init__()
        self.word = nn.Embedding(VOCAB, hidden, padding_idx=0)
        self.position = nn.Embedding(POSITIONS, hidden)
        self.token_type = nn.Embedding(TYPES, hidden)
        self.norm = nn.LayerNorm(hidden, eps=EPS)
        self.dropout = nn.Dropout(DROPOUT)
        self.layers = nn.ModuleList(Layer(hidden, heads, inner) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)

    def forward(self, ids, mask):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.dropout(self.norm(self.word(ids) + self.token_type(torch.zeros_like(ids)) + self.position(positions)))
        mask_bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


def main():
    size, batch, seq, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    torch.manual_seed(5)
    model = Bert(*SIZES[size])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(1, VOCAB, (batch, seq))
    mask = torch.ones(batch, seq, dtype=torch.long)
    mask[0, seq // 2:] = 0

    times, forwards, backwards, updates = [], [], [], []
    peak_after_first = 0.0
    for step in range(steps + 1):  # step 0 allocates the optimizer state: not timed
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        hidden, _ = model(ids, mask)
        loss = hidden.pow(2).mean()
        forward = time.perf_counter()
        loss.backward()
        backward = time.perf_counter()
        optimizer.step()
        end = time.perf_counter()
        del hidden, loss
        if step > 0:
            times.append((end - start) * 1000)
            forwards.append((forward - start) * 1000)
            backwards.append((backward - forward) * 1000)
            updates.append((end - backward) * 1000)
        if step == 1:
            peak_after_first = status_mb("VmHWM:")

    peak = status_mb("VmHWM:")
    growth = (peak - peak_after_first) / (steps - 1) if steps > 1 else 0.0
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    median = lambda values: sorted(values)[len(values) // 2]  # the upper middle, as Statistics.Median
    print(f"RESULT {min(times):.1f} {median(times):.1f} {peak:.0f} {status_mb('VmRSS:'):.0f} {trainable} {growth:.1f} "
          f"{median(forwards):.1f} {median(backwards):.1f} {median(updates):.1f}")


if __name__ == "__main__":
    main()
