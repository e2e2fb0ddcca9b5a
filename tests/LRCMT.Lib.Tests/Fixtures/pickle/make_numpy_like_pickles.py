"""Writes the small pickles the SafePickle tests read. Run once by hand (python3, no numpy needed); CI never runs it.

numpy is not installed where these were made, so stand-in classes registered under numpy's module names reproduce
exactly what numpy's ndarray/dtype __reduce__/__reduce_ex__ return (numpy/_core/src/multiarray/methods.c,
descriptor.c, numeric.py). The byte streams are therefore the ones numpy would produce for the same arrays.
"""
import pickle, struct, sys, types


def install_fake_numpy(core):
    np = types.ModuleType("numpy")
    mods = {"numpy": np}
    for name in (core, core + ".multiarray", core + ".numeric"):
        mods["numpy." + name] = types.ModuleType("numpy." + name)
    sys.modules.update(mods)

    def own(obj, module, name):
        obj.__module__, obj.__qualname__ = module, name
        setattr(sys.modules[module], name, obj)
        return obj

    class dtype:
        def __init__(self, code, order="<", elsize=-1):
            self.code, self.order, self.elsize = code, order, elsize
        def __reduce__(self):
            align = 4 if self.code.startswith("U") else -1
            flags = 8 if self.code.startswith("U") else 0
            return (dtype, (self.code, False, True), (3, self.order, None, None, None, self.elsize, align, flags))

    class ndarray:
        def __init__(self, dt, shape, data, fortran=False, oob=False):
            self.dt, self.shape, self.data, self.fortran, self.oob = dt, shape, data, fortran, oob
        def __reduce_ex__(self, protocol):
            if protocol >= 5 and not isinstance(self.data, list):
                buf = pickle.PickleBuffer(bytearray(self.data) if not self.oob else bytes(self.data))
                return (_frombuffer, (buf, self.dt, self.shape, "F" if self.fortran else "C"))
            return (_reconstruct, (ndarray, (0,), b"b"), (1, self.shape, self.dt, self.fortran, self.data))

    def _reconstruct(*a): raise RuntimeError
    def _frombuffer(*a): raise RuntimeError
    def scalar(*a): raise RuntimeError

    own(dtype, "numpy", "dtype")
    own(ndarray, "numpy", "ndarray")
    own(_reconstruct, "numpy." + core + ".multiarray", "_reconstruct")
    own(scalar, "numpy." + core + ".multiarray", "scalar")
    own(_frombuffer, "numpy." + core + ".numeric", "_frombuffer")

    class Scalar:
        def __init__(self, dt, raw): self.dt, self.raw = dt, raw
        def __reduce__(self): return (scalar, (self.dt, self.raw))
    return dtype, ndarray, Scalar


def sample(dtype, ndarray, Scalar, oob=False):
    f4 = lambda *v: struct.pack("<%df" % len(v), *v)
    return {
        "f32": ndarray(dtype("f4"), (2, 3), f4(1, 2, 3, 4, 5, 6), oob=oob),
        # Column-major storage of [[1, 2, 3], [4, 5, 6]].
        "fortran": ndarray(dtype("f4"), (2, 3), f4(1, 4, 2, 5, 3, 6), fortran=True, oob=oob),
        "i64": ndarray(dtype("i8"), (3,), struct.pack("<3q", -1, 0, 2 ** 40), oob=oob),
        "f64_big_endian": ndarray(dtype("f8", ">"), (2,), struct.pack(">2d", 0.5, -2.25), oob=oob),
        "bool": ndarray(dtype("b1", "|"), (3,), bytes([1, 0, 1]), oob=oob),
        "unicode": ndarray(dtype("U3", "<", 12), (2,), "ab\0xyz".encode("utf-32-le"), oob=oob),
        "objects": ndarray(dtype("O8", "|"), (2,), ["plain", "accentué"]),
        "scalar": Scalar(dtype("f8"), struct.pack("<d", 0.25)),
        "tuple": (1, "two", 3.0, None, True),
    }


for core, protocol, name in (("core", 2, "numpy1_protocol2.pkl"), ("core", 4, "numpy1_protocol4.pkl"),
                             ("_core", 5, "numpy2_protocol5.pkl")):
    for key in [k for k in sys.modules if k == "numpy" or k.startswith("numpy.")]:
        del sys.modules[key]
    classes = install_fake_numpy(core)
    with open(name, "wb") as f:
        pickle.dump(sample(*classes), f, protocol=protocol)

buffers = []
with open("numpy2_protocol5_out_of_band.pkl", "wb") as f:
    pickle.dump(sample(*classes, oob=True), f, protocol=5, buffer_callback=buffers.append)
with open("numpy2_protocol5_out_of_band.buffers", "wb") as f:
    # Length-prefixed (int32 little-endian) buffers, in the order the pickler handed them out.
    for b in buffers:
        raw = bytes(b.raw())
        f.write(struct.pack("<i", len(raw)) + raw)
