#!/usr/bin/env python3
"""Writes a tiny RoBERTa fixture (run with Debian's /usr/bin/python3, which has python3-torch; no transformers):
  vocab.json + merges.txt  - a byte-level BPE learned here from ../tokenizer/corpus.jsonl (300 merges);
  config.json + model.safetensors - a random 2-layer RoBERTa with Hugging Face's parameter names;
  roberta-io.safetensors   - input ids / attention mask and the reference last_hidden_state and pooler_output,
                             computed by the forward below, written from the architecture in plain torch.
The safetensors files are written by hand (8-byte header length, JSON header, raw little-endian data).
"""
import collections, json, math, os, re, struct
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)

# ---- byte-level BPE vocabulary ------------------------------------------------------------------
def byte_chars():
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in keep: table[b] = chr(b)
        else: table[b] = chr(256 + extra); extra += 1
    return table

BYTE = byte_chars()
lines = [json.loads(l) for l in open(os.path.join(here, "..", "tokenizer", "corpus.jsonl"), encoding="utf-8")]
words = collections.Counter()
for line in lines:
    for w in re.findall(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+", line):
        words["".join(BYTE[b] for b in w.encode("utf-8"))] += 1

specials = ["<s>", "<pad>", "</s>", "<unk>"]
vocab = {t: i for i, t in enumerate(specials)}
for b in range(256): vocab[BYTE[b]] = len(vocab)
splits = {w: list(w) for w in words}
merges = []
for _ in range(300):
    pairs = collections.Counter()
    for w, n in words.items():
        s = splits[w]
        for a, b in zip(s, s[1:]): pairs[(a, b)] += n
    if not pairs: break
    (a, b), _ = max(pairs.items(), key=lambda p: (p[1], p[0]))
    merges.append((a, b)); vocab.setdefault(a + b, len(vocab))
    for w, s in splits.items():
        out, i = [], 0
        while i < len(s):
            if i + 1 < len(s) and s[i] == a and s[i + 1] == b: out.append(a + b); i += 2
            else: out.append(s[i]); i += 1
        splits[w] = out
vocab["<mask>"] = len(vocab)
json.dump(vocab, open(os.path.join(here, "vocab.json"), "w", encoding="utf-8"), ensure_ascii=False)
with open(os.path.join(here, "merges.txt"), "w", encoding="utf-8") as f:
    f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))

# ---- tiny RoBERTa -------------------------------------------------------------------------------
cfg = dict(model_type="roberta", architectures=["RobertaModel"], vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
           num_attention_heads=4, intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.1,
           attention_probs_dropout_prob=0.1, max_position_embeddings=40, type_vocab_size=1, layer_norm_eps=1e-5,
           pad_token_id=1, bos_token_id=0, eos_token_id=2, position_embedding_type="absolute")
json.dump(cfg, open(os.path.join(here, "config.json"), "w"), indent=2)
H, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]

def rnd(*shape, scale=0.2): return torch.randn(*shape) * scale
w = {"embeddings.word_embeddings.weight": rnd(cfg["vocab_size"], H),
     "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], H),
     "embeddings.token_type_embeddings.weight": rnd(1, H),
     "embeddings.LayerNorm.weight": 1 + rnd(H, scale=0.1), "embeddings.LayerNorm.bias": rnd(H, scale=0.1)}
w["embeddings.word_embeddings.weight"][cfg["pad_token_id"]] = 0
w["embeddings.position_embeddings.weight"][cfg["pad_token_id"]] = 0
for l in range(L):
    p = f"encoder.layer.{l}."
    for name, (o, i) in {"attention.self.query": (H, H), "attention.self.key": (H, H), "attention.self.value": (H, H),
                         "attention.output.dense": (H, H), "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
        w[p + name + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i)); w[p + name + ".bias"] = rnd(o, scale=0.05)
    for name in ["attention.output.LayerNorm", "output.LayerNorm"]:
        w[p + name + ".weight"] = 1 + rnd(H, scale=0.1); w[p + name + ".bias"] = rnd(H, scale=0.1)
w["pooler.dense.weight"] = rnd(H, H, scale=1 / math.sqrt(H)); w["pooler.dense.bias"] = rnd(H, scale=0.05)

def forward(ids, mask):
    pad = cfg["pad_token_id"]
    # RoBERTa's positions count the non-padding tokens from padding_idx + 1; padding tokens get padding_idx.
    real = ids.ne(pad).long()
    positions = torch.cumsum(real, dim=1) * real + pad
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions] \
        + w["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    ln = lambda t, n: torch.nn.functional.layer_norm(t, (H,), w[n + ".weight"], w[n + ".bias"], cfg["layer_norm_eps"])
    lin = lambda t, n: t @ w[n + ".weight"].T + w[n + ".bias"]
    x = ln(x, "embeddings.LayerNorm")
    heads, d = cfg["num_attention_heads"], H // cfg["num_attention_heads"]
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    B, S = ids.shape
    for l in range(L):
        p = f"encoder.layer.{l}."
        split = lambda t: t.view(B, S, heads, d).transpose(1, 2)
        q, k, v = (split(lin(x, p + "attention.self." + n)) for n in ["query", "key", "value"])
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, S, H)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inner = torch.nn.functional.gelu(lin(x, p + "intermediate.dense"))
        x = ln(lin(inner, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], "pooler.dense"))
    return x, pooled

ids = torch.randint(4, cfg["vocab_size"] - 1, (3, 9))
ids[:, 0] = 0
mask = torch.ones(3, 9, dtype=torch.long)
ids[1, 6] = 2; ids[1, 7:] = 1; mask[1, 7:] = 0
ids[2, 4] = 2; ids[2, 5:] = 1; mask[2, 5:] = 0
ids[0, 8] = 2
last, pooled = forward(ids, mask)

def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data); offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text)
        for b in blobs: f.write(b)

save(os.path.join(here, "model.safetensors"), w)
save(os.path.join(here, "roberta-io.safetensors"), {"input_ids": ids, "attention_mask": mask, "last_hidden_state": last, "pooler_output": pooled})
print("vocab", len(vocab), "merges", len(merges), "params", sum(t.numel() for t in w.values()))
