"""Reference forward passes of the baselines (MulT, TFN, LMF, MAG-BERT), written here from the papers' equations in plain
PyTorch (Debian's python3-torch 1.13; nothing else needed), for the C# parity tests in tests/LRCMT.Lib.Tests/Baselines.

    /usr/bin/python3 make_baselines.py

Each model gets random weights (fixed seeds) stored under the state-dict names of the C# module, tiny inputs with
unaligned lengths, padding filled with large garbage values (a correct model never reads it) and one stream that is all
padding for some sample, and the reference output computed in float64 from the equations. Nothing here is copied from
the published code bases; the functions below follow the equations in docs/baselines.md.

Files (one safetensors per model; keys "input.*" and "expected.*" are the I/O, every other key is a weight):
    mult.safetensors  MulTFusion          text 12, acoustic 5, visual 4 -> 1 score
    tfn.safetensors   TfnFusion           text 12, acoustic 5, visual 4 -> 3 logits
    lmf.safetensors   LmfFusion           text 12, acoustic 5, visual 4 -> 1 score
    mag.safetensors   MAG gate + output layer on ../hf/tiny-bert, gate after 0, 1 and 2 layers -> 1 score each
"""
import collections
import json
import math
import os

import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The one safetensors reader/writer of the fixture scripts lives beside the PEFT references.
sys.path.insert(0, os.path.join(HERE, "..", "peft"))
import safetensors_io  # noqa: E402

TINY_BERT = os.path.join(HERE, "..", "hf", "tiny-bert", "model.safetensors")
TINY_BERT_IO = os.path.join(HERE, "..", "hf", "tiny-bert-io.safetensors")
F64 = torch.float64

# Sizes shared by the three fusion bodies (the C# tests build their modules with the same numbers).
TEXT, ACOUSTIC, VISUAL = 12, 5, 4
BATCH, TEXT_LEN, ACOUSTIC_LEN, VISUAL_LEN = 3, 6, 7, 5
TEXT_LENGTHS, ACOUSTIC_LENGTHS, VISUAL_LENGTHS = [6, 4, 5], [7, 3, 0], [2, 5, 5]


# ------------------------------------------------------------------------------------------------------ random inputs
class Weights:
    """Random float32 weights by C# state-dict name; the reference reads them back in float64."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)
        self.tensors = collections.OrderedDict()

    def _add(self, name, t):
        self.tensors[name] = t.to(torch.float32)
        return self.tensors[name].to(F64)

    def linear(self, prefix, n_in, n_out, bias=True):
        w = self._add(prefix + ".weight", torch.randn(n_out, n_in, generator=self.g) / math.sqrt(n_in))
        b = self._add(prefix + ".bias", 0.1 * torch.randn(n_out, generator=self.g)) if bias else None
        return w, b

    def norm(self, prefix, n):
        return (self._add(prefix + ".weight", 1 + 0.1 * torch.randn(n, generator=self.g)),
                self._add(prefix + ".bias", 0.1 * torch.randn(n, generator=self.g)))

    def tensor(self, name, shape, scale):
        return self._add(name, scale * torch.randn(*shape, generator=self.g))


def lengths_mask(length, lengths):
    return torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


def padded(g, shape, mask):
    """Standard-normal values on real positions, garbage (|x| ~ 1000) on padding."""
    values = torch.randn(*shape, generator=g)
    garbage = 1000 * torch.randn(*shape, generator=g)
    return torch.where(mask.unsqueeze(2), values, garbage).to(torch.float32)


# ------------------------------------------------------------------------------------------------- shared equations
def linear(x, wb):
    w, b = wb
    y = x @ w.T
    return y if b is None else y + b


def layer_norm(x, wb, eps=1e-5):
    w, b = wb
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def relu(x):
    return torch.clamp(x, min=0)


def last_real(states, mask):
    """State at each sample's last real position; zeros when a sample has none."""
    out = torch.zeros(states.shape[0], states.shape[2], dtype=states.dtype)
    for b in range(states.shape[0]):
        real = [t for t in range(states.shape[1]) if mask[b, t]]
        if real:
            out[b] = states[b, real[-1]]
    return out


def masked_mean(frames, mask):
    out = torch.zeros(frames.shape[0], frames.shape[2], dtype=frames.dtype)
    for b in range(frames.shape[0]):
        real = [t for t in range(frames.shape[1]) if mask[b, t]]
        if real:
            out[b] = frames[b, real].mean(0)
    return out


# ----------------------------------------------------------------------------------------------------------------- MulT
def positions(length, d):
    """PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)), positions from 0."""
    pe = torch.zeros(length, d, dtype=F64)
    for p in range(length):
        for i in range(0, d, 2):
            angle = p / (10000 ** (i / d))
            pe[p, i] = math.sin(angle)
            if i + 1 < d:
                pe[p, i + 1] = math.cos(angle)
    return pe


def multihead(query, source, source_mask, p, heads):
    """softmax(Q K^T / sqrt(d_h)) V per head over the real keys; a query without any real key gets a zero context."""
    b, lq, d = query.shape
    ls, dh = source.shape[1], d // heads
    q = linear(query, p["q"]).view(b, lq, heads, dh).transpose(1, 2)
    k = linear(source, p["k"]).view(b, ls, heads, dh).transpose(1, 2)
    v = linear(source, p["v"]).view(b, ls, heads, dh).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    scores = scores.masked_fill(~source_mask[:, None, None, :], float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, -1), nan=0.0)
    context = (weights @ v).transpose(1, 2).reshape(b, lq, d)
    return linear(context, p["out"])


def cross_modal_layer(x, source, source_mask, p, heads):
    """Pre-norm layer: x + CM(LN_t(x), LN_s(source)), then x + FFN(LN_f(x)) with FFN(y) = W2 ReLU(W1 y + b1) + b2."""
    x = x + multihead(layer_norm(x, p["ln_target"]), layer_norm(source, p["ln_source"]), source_mask, p, heads)
    return x + linear(relu(linear(layer_norm(x, p["ln_ffn"]), p["fc1"])), p["fc2"])


def cross_modal_stack(target, source, source_mask, p, heads, self_attention=False):
    """Both inputs scaled by sqrt(d) plus positions; the source is the memory of every layer (or, for self-attention,
    each layer attends to its own input); a final LayerNorm."""
    d = target.shape[2]
    x = math.sqrt(d) * target + positions(target.shape[1], d)
    memory = x if self_attention else math.sqrt(d) * source + positions(source.shape[1], d)
    for layer in p["layers"]:
        x = cross_modal_layer(x, x if self_attention else memory, source_mask, layer, heads)
    return layer_norm(x, p["final"])


def temporal_projection(x, mask, w):
    """Bias-free convolution over time with 'same' zero padding, padded frames zeroed first: y_t = sum_j W_j x_(t+j-r)."""
    x = x * mask.unsqueeze(2)
    d, _, k = w.shape
    r = k // 2
    out = torch.zeros(x.shape[0], x.shape[1], d, dtype=F64)
    for t in range(x.shape[1]):
        for j in range(k):
            s = t + j - r
            if 0 <= s < x.shape[1]:
                out[:, t] += x[:, s] @ w[:, :, j].T
    return out


def make_mult(W, d, heads, layers, memory_layers, kernels):
    def stack(prefix, width, depth):
        layer_list = []
        for i in range(depth):
            n = f"{prefix}.layers.{i}"
            layer_list.append({
                "q": W.linear(n + ".cross_attn.q_proj", width, width),
                "k": W.linear(n + ".cross_attn.k_proj", width, width),
                "v": W.linear(n + ".cross_attn.v_proj", width, width),
                "out": W.linear(n + ".cross_attn.out_proj", width, width),
                "ln_target": W.norm(n + ".target_norm", width),
                "ln_source": W.norm(n + ".source_norm", width),
                "ln_ffn": W.norm(n + ".ffn_norm", width),
                "fc1": W.linear(n + ".fc1", width, 4 * width),
                "fc2": W.linear(n + ".fc2", 4 * width, width),
            })
        return {"layers": layer_list, "final": W.norm(prefix + ".layer_norm", width)}

    # Registration order of the C# module (the state dict is checked by name, so order is only cosmetic).
    p = {
        "proj_l": W.tensor("proj_l.conv.weight", (d, TEXT, kernels[0]), 1 / math.sqrt(TEXT * kernels[0])),
        "proj_a": W.tensor("proj_a.conv.weight", (d, ACOUSTIC, kernels[1]), 1 / math.sqrt(ACOUSTIC * kernels[1])),
        "proj_v": W.tensor("proj_v.conv.weight", (d, VISUAL, kernels[2]), 1 / math.sqrt(VISUAL * kernels[2])),
    }
    for name in ["trans_l_with_a", "trans_l_with_v", "trans_a_with_l", "trans_a_with_v", "trans_v_with_l", "trans_v_with_a"]:
        p[name] = stack(name, d, layers)
    for name in ["trans_l_mem", "trans_a_mem", "trans_v_mem"]:
        p[name] = stack(name, 2 * d, memory_layers)
    p["proj1"] = W.linear("head.proj1", 6 * d, 6 * d)
    p["proj2"] = W.linear("head.proj2", 6 * d, 6 * d)
    p["out"] = W.linear("head.out_layer", 6 * d, 1)
    return p


def mult_forward(p, heads, text, tm, acoustic, am, visual, vm):
    """MulT: per target, [CM(other1 -> target); CM(other2 -> target)] -> self-attention -> last real state; the three
    last states concatenated -> residual block -> output."""
    l = temporal_projection(text, tm, p["proj_l"])
    a = temporal_projection(acoustic, am, p["proj_a"])
    v = temporal_projection(visual, vm, p["proj_v"])
    lasts = []
    for target, tmask, sources, mem in [
        (l, tm, [("trans_l_with_a", a, am), ("trans_l_with_v", v, vm)], "trans_l_mem"),
        (a, am, [("trans_a_with_l", l, tm), ("trans_a_with_v", v, vm)], "trans_a_mem"),
        (v, vm, [("trans_v_with_l", l, tm), ("trans_v_with_a", a, am)], "trans_v_mem"),
    ]:
        joined = torch.cat([cross_modal_stack(target, s, smask, p[name], heads) for name, s, smask in sources], 2)
        states = cross_modal_stack(joined, joined, tmask, p[mem], heads, self_attention=True)
        lasts.append(last_real(states, tmask))
    last = torch.cat(lasts, 1)
    refined = linear(relu(linear(last, p["proj1"])), p["proj2"]) + last
    return linear(refined, p["out"])


# ------------------------------------------------------------------------------------------------ TFN / LMF subnetworks
def make_subnetworks(W, text_hidden, text_out, acoustic_hidden, visual_hidden):
    h = text_hidden
    return {
        # PyTorch's LSTM layout: the four gates stacked as (input, forget, cell, output) rows.
        "w_ih": W.tensor("subnetworks.text.rnn.weight_ih_l0", (4 * h, TEXT), 1 / math.sqrt(h)),
        "w_hh": W.tensor("subnetworks.text.rnn.weight_hh_l0", (4 * h, h), 1 / math.sqrt(h)),
        "b_ih": W.tensor("subnetworks.text.rnn.bias_ih_l0", (4 * h,), 0.3),
        "b_hh": W.tensor("subnetworks.text.rnn.bias_hh_l0", (4 * h,), 0.3),
        "t1": W.linear("subnetworks.text.linear_1", h, text_out),
        "t2": W.linear("subnetworks.text.linear_2", text_out, text_out),
        "a1": W.linear("subnetworks.acoustic.linear_1", ACOUSTIC, acoustic_hidden),
        "a2": W.linear("subnetworks.acoustic.linear_2", acoustic_hidden, acoustic_hidden),
        "a3": W.linear("subnetworks.acoustic.linear_3", acoustic_hidden, acoustic_hidden),
        "v1": W.linear("subnetworks.visual.linear_1", VISUAL, visual_hidden),
        "v2": W.linear("subnetworks.visual.linear_2", visual_hidden, visual_hidden),
        "v3": W.linear("subnetworks.visual.linear_3", visual_hidden, visual_hidden),
    }


def lstm_last(x, mask, p):
    """i, f, g, o = sigma, sigma, tanh, sigma of W_i x_t + b_i + W_h h + b_h; c = f c + i g; h = o tanh(c); over the real
    tokens only, returning h after the last one."""
    hidden = p["w_hh"].shape[1]
    out = torch.zeros(x.shape[0], hidden, dtype=F64)
    for b in range(x.shape[0]):
        h = torch.zeros(hidden, dtype=F64)
        c = torch.zeros(hidden, dtype=F64)
        for t in range(x.shape[1]):
            if not mask[b, t]:
                continue
            z = p["w_ih"] @ x[b, t] + p["b_ih"] + p["w_hh"] @ h + p["b_hh"]
            i, f, g, o = z.split(hidden)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        out[b] = h
    return out


def subnetworks(p, text, tm, acoustic, am, visual, vm):
    zt = relu(linear(relu(linear(lstm_last(text, tm, p), p["t1"])), p["t2"]))
    za = relu(linear(relu(linear(relu(linear(masked_mean(acoustic, am), p["a1"])), p["a2"])), p["a3"]))
    zv = relu(linear(relu(linear(relu(linear(masked_mean(visual, vm), p["v1"])), p["v2"])), p["v3"]))
    return zt, za, zv


def with_one(z):
    return torch.cat([z, torch.ones(z.shape[0], 1, dtype=z.dtype)], 1)


def tfn_forward(p, inputs):
    """z = [z_t; 1] (x) [z_a; 1] (x) [z_v; 1] flattened (visual index fastest) -> ReLU -> ReLU -> linear."""
    zt, za, zv = (with_one(z) for z in subnetworks(p, *inputs))
    fused = torch.einsum("bi,bj,bk->bijk", zt, za, zv).reshape(zt.shape[0], -1)
    x = relu(linear(fused, p["f1"]))
    x = relu(linear(x, p["f2"]))
    return linear(x, p["f3"])


def lmf_forward(p, inputs):
    """h = sum_i prod_m ([z_m; 1] W_m^(i)) + b."""
    zt, za, zv = (with_one(z) for z in subnetworks(p, *inputs))
    h = p["bias"].clone().expand(zt.shape[0], -1).clone()
    for i in range(p["text_factor"].shape[0]):
        h = h + (zt @ p["text_factor"][i]) * (za @ p["acoustic_factor"][i]) * (zv @ p["visual_factor"][i])
    return h


# ------------------------------------------------------------------------------------------------------------ MAG-BERT
def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def bert_layer(x, additive_mask, w, n, heads):
    b, length, d = x.shape
    dh = d // heads

    def lin(name, y):
        return y @ w[f"{n}.{name}.weight"].T + w[f"{n}.{name}.bias"]

    def ln(name, y):
        return layer_norm(y, (w[f"{n}.{name}.weight"], w[f"{n}.{name}.bias"]), eps=1e-12)

    q = lin("attention.self.query", x).view(b, length, heads, dh).transpose(1, 2)
    k = lin("attention.self.key", x).view(b, length, heads, dh).transpose(1, 2)
    v = lin("attention.self.value", x).view(b, length, heads, dh).transpose(1, 2)
    probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + additive_mask, -1)
    context = (probs @ v).transpose(1, 2).reshape(b, length, d)
    attended = ln("attention.output.LayerNorm", lin("attention.output.dense", context) + x)
    return ln("output.LayerNorm", lin("output.dense", gelu(lin("intermediate.dense", attended))) + attended)


def bert(w, ids, mask, types, heads, layers, gate=None, gate_after=None):
    """BERT (embeddings, post-norm layers, tanh pooler); `gate` replaces the states after `gate_after` layers."""
    positions_ = torch.arange(ids.shape[1])
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions_] \
        + w["embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]), eps=1e-12)
    additive = torch.where(mask.bool(), 0.0, float("-inf")).to(F64)[:, None, None, :]
    for i in range(layers):
        if gate is not None and gate_after == i:
            x = gate(x)
        x = bert_layer(x, additive, w, f"encoder.layer.{i}", heads)
    if gate is not None and gate_after == layers:
        x = gate(x)
    pooled = torch.tanh(x[:, 0] @ w["pooler.dense.weight"].T + w["pooler.dense.bias"])
    return x, pooled


def resample_to_text(frames, frame_mask, text_mask):
    """Real token i of n covers [i/n, (i+1)/n); real frame j of m sits at (j + 1/2)/m. A token averages its frames, or
    takes the frame nearest its centre when none falls in its share; padded tokens and frame-less clips give zeros."""
    b_, length = text_mask.shape
    out = torch.zeros(b_, length, frames.shape[2], dtype=F64)
    for b in range(b_):
        tokens = [t for t in range(length) if text_mask[b, t]]
        real_frames = [f for f in range(frames.shape[1]) if frame_mask[b, f]]
        n, m = len(tokens), len(real_frames)
        for i, t in enumerate(tokens):
            mine = [real_frames[j] for j in range(m) if ((2 * j + 1) * n) // (2 * m) == i]
            if mine:
                out[b, t] = frames[b, mine].mean(0)
            elif m > 0:
                out[b, t] = frames[b, real_frames[((2 * i + 1) * m) // (2 * n)]]
    return out


def mag_gate(p, beta, z, acoustic, visual):
    """g_v = ReLU(W_gv [Z; V] + b_v), g_a = ReLU(W_ga [Z; A] + b_a), H = g_v * (W_v V) + g_a * (W_a A) + b_H,
    alpha = min(beta ||Z|| / ||H||, 1), output LayerNorm(Z + alpha H)."""
    g_v = relu(linear(torch.cat([z, visual], 2), p["gate_v"]))
    g_a = relu(linear(torch.cat([z, acoustic], 2), p["gate_a"]))
    h = g_v * linear(visual, p["shift_v"]) + g_a * linear(acoustic, p["shift_a"]) + p["shift_bias"]
    alpha = torch.clamp(beta * z.norm(dim=-1, keepdim=True) / h.norm(dim=-1, keepdim=True).clamp(min=1e-6), max=1.0)
    return layer_norm(z + alpha * h, p["norm"])


# ----------------------------------------------------------------------------------------------------------------- main
def fusion_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    tm = lengths_mask(TEXT_LEN, TEXT_LENGTHS)
    am = lengths_mask(ACOUSTIC_LEN, ACOUSTIC_LENGTHS)
    vm = lengths_mask(VISUAL_LEN, VISUAL_LENGTHS)
    text = padded(g, (BATCH, TEXT_LEN, TEXT), tm)
    acoustic = padded(g, (BATCH, ACOUSTIC_LEN, ACOUSTIC), am)
    visual = padded(g, (BATCH, VISUAL_LEN, VISUAL), vm)
    io = collections.OrderedDict([
        ("input.text", text), ("input.text_mask", tm), ("input.acoustic", acoustic), ("input.acoustic_mask", am),
        ("input.visual", visual), ("input.visual_mask", vm)])
    as64 = (text.to(F64), tm, acoustic.to(F64), am, visual.to(F64), vm)
    return io, as64


def save(name, weights, io, expected, config):
    tensors = collections.OrderedDict(weights.tensors)
    tensors.update(io)
    tensors["expected.output"] = expected.to(F64)
    safetensors_io.write(os.path.join(HERE, name), tensors, {"config": json.dumps(config, sort_keys=True),
                                                          "source": "make_baselines.py (PyTorch %s)" % torch.__version__})
    print(f"{name}: output {tuple(expected.shape)}, {sum(t.numel() for t in weights.tensors.values())} weights")


def main():
    torch.set_default_dtype(F64)

    # MulT: d = 8, 2 heads, 2 cross-modal layers, self-attention depth max(2, 3) = 3, acoustic kernel 3.
    W = Weights(101)
    p = make_mult(W, d=8, heads=2, layers=2, memory_layers=3, kernels=(1, 3, 1))
    io, inputs = fusion_inputs(11)
    save("mult.safetensors", W, io, mult_forward(p, 2, *inputs),
         {"width": 8, "heads": 2, "layers": 2, "self_attention_layers": 3, "kernels": [1, 3, 1], "outputs": 1})

    # TFN: LSTM 6, text out 5, acoustic 3, visual 2, inference 7, three outputs.
    W = Weights(202)
    p = make_subnetworks(W, text_hidden=6, text_out=5, acoustic_hidden=3, visual_hidden=2)
    fused = (5 + 1) * (3 + 1) * (2 + 1)
    p["f1"] = W.linear("post_fusion_layer_1", fused, 7)
    p["f2"] = W.linear("post_fusion_layer_2", 7, 7)
    p["f3"] = W.linear("post_fusion_layer_3", 7, 3)
    io, inputs = fusion_inputs(22)
    save("tfn.safetensors", W, io, tfn_forward(p, inputs),
         {"text_hidden": 6, "text_out": 5, "acoustic_hidden": 3, "visual_hidden": 2, "post_fusion_hidden": 7, "outputs": 3})

    # LMF: the same subnetwork sizes, rank 3, one output.
    W = Weights(303)
    p = make_subnetworks(W, text_hidden=6, text_out=5, acoustic_hidden=3, visual_hidden=2)
    p["text_factor"] = W.tensor("text_factor", (3, 5 + 1, 1), 0.5)
    p["acoustic_factor"] = W.tensor("acoustic_factor", (3, 3 + 1, 1), 0.5)
    p["visual_factor"] = W.tensor("visual_factor", (3, 2 + 1, 1), 0.5)
    p["bias"] = W.tensor("fusion_bias", (1,), 0.1)
    io, inputs = fusion_inputs(33)
    save("lmf.safetensors", W, io, lmf_forward(p, inputs),
         {"text_hidden": 6, "text_out": 5, "acoustic_hidden": 3, "visual_hidden": 2, "rank": 3, "outputs": 1})

    # MAG-BERT on the tiny BERT fixture (hidden 64, 4 heads, 2 layers); first check this BERT against Hugging Face's.
    bert_weights = {k: v.to(F64) for k, v in safetensors_io.read(TINY_BERT).items()}
    hf = safetensors_io.read(TINY_BERT_IO)
    ids, mask, types = hf["input_ids"], hf["attention_mask"], hf["token_type_ids"]
    states, pooled = bert(bert_weights, ids, mask, types, heads=4, layers=2)
    error = max((states - hf["base_last_hidden_state"].to(F64)).abs().max().item(),
                (pooled - hf["base_pooler_output"].to(F64)).abs().max().item())
    assert error < 1e-5, f"the reference BERT differs from Hugging Face's by {error}"
    print(f"reference BERT vs Hugging Face: max |diff| = {error:.2e}")

    W = Weights(404)
    hidden, a_dim, v_dim, beta = 64, 5, 3, 0.5
    p = {
        "gate_v": W.linear("gate.visual_gate", hidden + v_dim, hidden),
        "gate_a": W.linear("gate.acoustic_gate", hidden + a_dim, hidden),
        "shift_v": W.linear("gate.visual_shift", v_dim, hidden, bias=False),
        "shift_a": W.linear("gate.acoustic_shift", a_dim, hidden, bias=False),
        "shift_bias": W.tensor("gate.shift_bias", (hidden,), 0.1),
        "norm": W.norm("gate.layer_norm", hidden),
        "out": W.linear("classifier", hidden, 1),
    }
    g = torch.Generator().manual_seed(44)
    am, vm = lengths_mask(20, [20, 3]), lengths_mask(4, [2, 0])
    acoustic, visual = padded(g, (2, 20, a_dim), am), padded(g, (2, 4, v_dim), vm)
    aligned_a = resample_to_text(acoustic.to(F64), am, mask.bool())
    aligned_v = resample_to_text(visual.to(F64), vm, mask.bool())
    tensors = collections.OrderedDict(W.tensors)
    tensors.update([("input.input_ids", ids), ("input.attention_mask", mask), ("input.token_type_ids", types),
                    ("input.acoustic", acoustic), ("input.acoustic_mask", am), ("input.visual", visual),
                    ("input.visual_mask", vm), ("expected.acoustic_on_text", aligned_a),
                    ("expected.visual_on_text", aligned_v)])
    tensors["expected.output_without_gate"] = linear(pooled, p["out"]).squeeze(1)  # plain BERT, same output layer
    for after in range(3):
        _, pooled = bert(bert_weights, ids, mask, types, heads=4, layers=2,
                         gate=lambda z: mag_gate(p, beta, z, aligned_a, aligned_v), gate_after=after)
        tensors[f"expected.output_after_{after}"] = linear(pooled, p["out"]).squeeze(1)
    safetensors_io.write(os.path.join(HERE, "mag.safetensors"), tensors, {
        "config": json.dumps({"beta_shift": beta, "acoustic": a_dim, "visual": v_dim, "outputs": 1}),
        "source": "make_baselines.py (PyTorch %s) on ../hf/tiny-bert" % torch.__version__})
    print("mag.safetensors: first sample without the gate and with it after 0, 1, 2 layers:",
          [round(tensors[k].tolist()[0], 5) for k in ["expected.output_without_gate"] + [f"expected.output_after_{a}" for a in range(3)]])


if __name__ == "__main__":
    main()
