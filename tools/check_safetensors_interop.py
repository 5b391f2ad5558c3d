#!/usr/bin/python3
"""Cross-check fer-cl's safetensors reader and writer against PyTorch.

    check_safetensors_interop.py [--tool build/tests/net/st_tool]

(a) fer-cl writes a sample (st_tool write); this script reads it with its own
    reader (json + struct + torch.frombuffer) and compares every tensor.
(b) this script writes tensors of every dtype the way PyTorch's safetensors
    library lays them out; fer-cl must read them bit-exactly (st_tool dump),
    including its F16/BF16/F64 -> F32 conversion.
(c) tools/pth_to_safetensors.py converts a wrapped, 'module.'-prefixed .pth
    state_dict; fer-cl must read the result.
(d) files breaking the format are rejected by fer-cl with the expected message.
Exits 0 when all pass, 1 on a mismatch, 77 (skipped) when torch is missing.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("SKIP: torch is not installed (Debian: python3-torch)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pth_to_safetensors import DTYPES, save_file, tensor_bytes  # noqa: E402

BY_NAME = {name: (dtype, size) for dtype, (name, size) in DTYPES.items()}
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def load_file(path):
    """A strict reader: returns ({name: tensor}, metadata, header length)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), "header length past the end"
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in metadata.values())
    data = blob[8 + n:]
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        dtype, size = BY_NAME[info["dtype"]]
        begin, end = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        assert begin == covered and end - begin == numel * size, f"{name}: bad offsets"
        covered = end
        if numel:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(info["shape"])
        else:
            t = torch.empty(info["shape"], dtype=dtype)
        tensors[name] = t
    assert covered == len(data), "data section not fully covered"
    return tensors, metadata, n


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and tensor_bytes(a) == tensor_bytes(b)


def run_tool(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True)


def dump(tool, path):
    r = run_tool(tool, "dump", path)
    if r.returncode != 0:
        raise AssertionError(f"fer-cl rejected {path}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def compare_dump(got, tensors, metadata, label):
    check(got["metadata"] == metadata, f"{label}: metadata {got['metadata']}")
    by_name = {t["name"]: t for t in got["tensors"]}
    check(sorted(by_name) == sorted(tensors), f"{label}: fer-cl sees {len(by_name)} tensors")
    for name, t in tensors.items():
        g = by_name.get(name)
        if g is None:
            continue
        ok = (g["dtype"] == DTYPES[t.dtype][0] and g["shape"] == list(t.shape)
              and bytes.fromhex(g["hex"]) == tensor_bytes(t))
        if t.is_floating_point():
            ok = ok and bytes.fromhex(g["f32hex"]) == tensor_bytes(t.to(torch.float32))
        check(ok, f"{label}: {name} {g['dtype']} {g['shape']} bit-exact"
              + (" (and as F32)" if t.is_floating_point() else ""))


def expected_sample():
    """What st_tool write produces (see tests/net/st_tool.c)."""
    return {
        "f32": (torch.arange(12, dtype=torch.float32) * 0.5 - 2).reshape(3, 4),
        "f64": (torch.arange(6, dtype=torch.float64) / 3.0).reshape(2, 3),
        "f16": torch.tensor([1, -2, 0.5, 65504, 2 ** -24], dtype=torch.float16),
        "bf16": torch.tensor([[1, -5], [3.140625, 0]], dtype=torch.bfloat16),
        "i64": torch.tensor([-1, 1 << 40, -(1 << 63)], dtype=torch.int64),
        "i32": torch.tensor([[-7, 0], [7, 123456]], dtype=torch.int32),
        "i16": torch.tensor([-300, 0, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([[0, 1, 2], [253, 254, 255]], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.empty(0, 3, dtype=torch.float32),
    }


def part_a(tool, tmp):
    path = os.path.join(tmp, "from_fercl.safetensors")
    r = run_tool(tool, "write", path)
    check(r.returncode == 0, f"(a) fer-cl wrote {path} {r.stderr.strip()}")
    tensors, metadata, n = load_file(path)
    check(n % 8 == 0, f"(a) header length {n} is a multiple of 8")
    check(metadata == {"format": "pt", "producer": "fer-cl st_tool"}, f"(a) metadata {metadata}")
    expected = expected_sample()
    check(sorted(tensors) == sorted(expected), "(a) the same tensor names")
    for name, t in expected.items():
        check(name in tensors and same(tensors[name], t), f"(a) {name} {t.dtype} {list(t.shape)} matches torch")


def part_b(tool, tmp):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(6, 5, generator=g)
    tensors = {
        "conv.weight": torch.randn(4, 3, 3, 3, generator=g),
        "transposed": base.t(),  # a non-contiguous view
        "half": torch.randn(7, generator=g).half(),
        "half.special": torch.tensor([float("inf"), -0.0, 6.1e-5, 1e-7, float("nan")], dtype=torch.float16),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "double": torch.randn(3, generator=g).double() * 1e10,
        "steps": torch.tensor([1, -2, 1 << 50]),
        "i32": torch.tensor([2147483647, -5], dtype=torch.int32),
        "i16": torch.tensor([-32768, 7], dtype=torch.int16),
        "i8": torch.tensor([-3, 4], dtype=torch.int8),
        "u8": torch.arange(256, dtype=torch.uint8).reshape(16, 16),
        "mask": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(2.5, dtype=torch.float64),
        "empty": torch.empty(3, 0, dtype=torch.float16),
        "name with spaces and caf\u00e9": torch.ones(1),
        "eight": torch.randn(1, 2, 1, 2, 1, 1, 2, 1, generator=g),
    }
    metadata = {"format": "pt", "note": "written by torch \"json\"\n"}
    path = os.path.join(tmp, "from_torch.safetensors")
    save_file(tensors, path, metadata)
    back, meta_back, _ = load_file(path)
    check(all(same(back[k], v) for k, v in tensors.items()) and meta_back == metadata,
          "(b) this script's own writer/reader round trip")
    compare_dump(dump(tool, path), tensors, metadata, "(b) fer-cl reads torch's file")


def part_c(tool, tmp):
    g = torch.Generator().manual_seed(1)
    state = {
        "conv1.weight": torch.randn(8, 3, 7, 7, generator=g),
        "bn1.weight": torch.rand(8, generator=g), "bn1.bias": torch.randn(8, generator=g),
        "bn1.running_mean": torch.randn(8, generator=g), "bn1.running_var": torch.rand(8, generator=g),
        "bn1.num_batches_tracked": torch.tensor(1234),
        "fc.weight": torch.randn(7, 16, generator=g), "fc.bias": torch.zeros(7),
    }
    checkpoint = {"state_dict": {"module." + k: v for k, v in state.items()}, "epoch": 3, "arch": "resnet18"}
    pth = os.path.join(tmp, "ckpt.pth")
    torch.save(checkpoint, pth)
    out = os.path.join(tmp, "ckpt.safetensors")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pth_to_safetensors.py")
    r = subprocess.run([sys.executable, script, pth, out], capture_output=True, text=True)
    check(r.returncode == 0, f"(c) pth_to_safetensors: {(r.stdout + r.stderr).strip()}")
    compare_dump(dump(tool, out), state, {"format": "pt", "source": "ckpt.pth"}, "(c) fer-cl reads the converted .pth")
    out32 = os.path.join(tmp, "ckpt_f32.safetensors")
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
    torch.save(half, pth)  # a bare state_dict this time, F16 weights
    r = subprocess.run([sys.executable, script, pth, out32, "--f32"], capture_output=True, text=True)
    got = dump(tool, out32)
    check(r.returncode == 0 and all(t["dtype"] in ("F32", "I64") for t in got["tensors"]),
          "(c) --f32 stores F16 weights as F32")


def write_raw(path, header, data):
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def part_d(tool, tmp):
    t = {"dtype": "F32", "shape": [2]}
    cases = [
        ("overlap", {"a": dict(t, data_offsets=[0, 8]), "b": dict(t, data_offsets=[4, 12])}, 12, "overlap"),
        ("gap", {"a": dict(t, data_offsets=[0, 8]), "b": dict(t, data_offsets=[12, 20])}, 20, "gap in the data"),
        ("mismatch", {"a": dict(t, data_offsets=[0, 6])}, 6, "needs 8 bytes, offsets give 6"),
        ("dtype", {"a": dict(t, dtype="F8_E4M3", data_offsets=[0, 2])}, 2, "unsupported dtype"),
        ("metadata", {"__metadata__": {"epoch": 3}, "a": dict(t, data_offsets=[0, 8])}, 8,
         "metadata values must be strings"),
        ("truncated", {"a": dict(t, data_offsets=[0, 8])}, 5, "go past the end"),
    ]
    for name, header, size, message in cases:
        path = os.path.join(tmp, f"bad_{name}.safetensors")
        write_raw(path, header, bytes(size))
        r = run_tool(tool, "dump", path)
        check(r.returncode == 1 and message in r.stderr, f"(d) {name}: {r.stderr.strip()}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", default=os.path.join(here, "..", "build", "tests", "net", "st_tool"),
                    help="path of the st_tool test program (built by meson under tests/net)")
    args = ap.parse_args()
    if not os.access(args.tool, os.X_OK):
        sys.exit(f"error: {args.tool} not found; build it with ninja -C build tests/net/st_tool")
    with tempfile.TemporaryDirectory(prefix="fercl-st-interop-") as tmp:
        for part in (part_a, part_b, part_c, part_d):
            try:
                part(args.tool, tmp)
            except AssertionError as e:
                check(False, f"{part.__name__}: {e}")
    print(f"{len(failures)} failure(s)" if failures else "all safetensors interop checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
