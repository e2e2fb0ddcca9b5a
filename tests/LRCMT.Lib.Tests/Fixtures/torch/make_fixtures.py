"""Writes the torch checkpoint fixtures of tests/LRCMT.Lib.Tests/Checkpoints (run with Debian's python3-torch 1.13):

    /usr/bin/python3 make_fixtures.py

small.bin / small-legacy.bin: one state dict in torch's zip format and in the legacy (pre-1.6) format, holding
float32/float64/float16/int64/bool tensors, a transposed (non-contiguous) view and two views of one storage;
small.json: the expected values. tiny-bert/pytorch_model.bin: ../hf/tiny-bert/model.safetensors re-saved with
torch.save. malicious.bin: a zip checkpoint whose data.pkl calls os.system. truncated.bin: small.bin with one
data entry cut short. out-of-bounds.bin: a tensor
reaching past its storage. tiny-lora-bin/: the PEFT tiny-lora adapter
with its weights as adapter_model.bin (older PEFT). mha/: see mha_reference.py.
"""
import collections, io, json, os, pickle, shutil, struct, zipfile
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def small_state():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 6, generator=g)
    state = collections.OrderedDict()
    state["linear.weight"] = torch.randn(2, 3, generator=g)
    state["linear.bias"] = torch.randn(3, generator=g).double()
    state["half"] = torch.randn(5, generator=g).half()
    state["ids"] = torch.tensor([3, -1, 7], dtype=torch.int64)
    state["mask"] = torch.tensor([True, False, True])
    state["transposed"] = base.t()              # stride (1, 6)
    state["rows"] = base[1:3]                  # shares base's storage, offset 6
    state["cols"] = base[:, 2]                 # same storage, offset 2, stride (6,)
    return state


def expected(state):
    return {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                "values": v.double().flatten().tolist() if v.dtype != torch.bool else v.flatten().tolist()}
            for k, v in state.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "I64": torch.int64, "F16": torch.float16}
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[info["dtype"]]) if e > b else torch.empty(0, dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


class StorageMarker:
    pass


class OutOfBoundsView:
    """A tensor that claims 10 elements of a 4-element storage."""
    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (self.storage, 0, (10,), (1,), False, collections.OrderedDict()))


def write_out_of_bounds(path):
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", 4) if isinstance(obj, StorageMarker) else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(collections.OrderedDict([("w", OutOfBoundsView(StorageMarker()))]))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("bad/data.pkl", buffer.getvalue())
        z.writestr("bad/data/0", b"\0" * 16)
        z.writestr("bad/version", "3\n")


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/lrcmt-torch-pickle-marker",))


def main():
    state = small_state()
    torch.save(state, os.path.join(HERE, "small.bin"))
    torch.save(state, os.path.join(HERE, "small-legacy.bin"), _use_new_zipfile_serialization=False)
    with open(os.path.join(HERE, "small.json"), "w") as f:
        json.dump(expected(state), f, indent=1)

    torch.save({"w": torch.zeros(2), "payload": Exploit()}, os.path.join(HERE, "malicious.bin"))

    with zipfile.ZipFile(os.path.join(HERE, "small.bin")) as src, \
            zipfile.ZipFile(os.path.join(HERE, "truncated.bin"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data/0"):
                data = data[:-4]
            dst.writestr(info.filename, data)

    write_out_of_bounds(os.path.join(HERE, "out-of-bounds.bin"))

    bert = read_safetensors(os.path.join(HERE, "..", "hf", "tiny-bert", "model.safetensors"))
    os.makedirs(os.path.join(HERE, "tiny-bert"), exist_ok=True)
    torch.save(bert, os.path.join(HERE, "tiny-bert", "pytorch_model.bin"))
    for name in ("config.json", "vocab.txt"):
        shutil.copy(os.path.join(HERE, "..", "hf", "tiny-bert", name), os.path.join(HERE, "tiny-bert"))

    # An adapter folder as older PEFT versions saved it (adapter_model.bin), from the PEFT-written tiny-lora fixture.
    lora = read_safetensors(os.path.join(HERE, "..", "hf", "tiny-lora", "adapter_model.safetensors"))
    os.makedirs(os.path.join(HERE, "tiny-lora-bin"), exist_ok=True)
    torch.save(lora, os.path.join(HERE, "tiny-lora-bin", "adapter_model.bin"))
    shutil.copy(os.path.join(HERE, "..", "hf", "tiny-lora", "adapter_config.json"), os.path.join(HERE, "tiny-lora-bin"))


if __name__ == "__main__":
    main()
