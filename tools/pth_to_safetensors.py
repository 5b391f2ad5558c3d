#!/usr/bin/python3
"""Convert a PyTorch .pth checkpoint (a state_dict) to safetensors for fer-cl.

Uses only torch and the standard library (the `safetensors` package is not
needed). Accepts a bare state_dict, a dict that wraps one ({'state_dict': ...},
{'model': ...}, ...), or a pickled nn.Module; strips DataParallel's 'module.'
prefix (see --strip-prefix).

    pth_to_safetensors.py resnet18-f37072fd.pth resnet18.safetensors
    pth_to_safetensors.py ckpt.pth out.safetensors --key model --f32

The file layout follows PyTorch's safetensors library: compact JSON header with
"__metadata__" first, tensors ordered by element size (largest first) and then
by name so each one is aligned to its element size, the header padded with
spaces to a multiple of 8, data written through a temp file then renamed.
"""
import argparse
import ctypes
import json
import os
import struct
import sys

import torch

DTYPES = {  # torch dtype -> (safetensors name, element size)
    torch.float32: ("F32", 4), torch.float64: ("F64", 8), torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2), torch.int64: ("I64", 8), torch.int32: ("I32", 4),
    torch.int16: ("I16", 2), torch.int8: ("I8", 1), torch.uint8: ("U8", 1), torch.bool: ("BOOL", 1),
}
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "state_dict_ema", "model_ema", "net", "module")


def tensor_bytes(t):
    """The tensor's elements as little-endian bytes (C order)."""
    t = t.detach().to("cpu").contiguous()
    if sys.byteorder != "little":
        raise SystemExit("error: this script assumes a little-endian machine")
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} (and {str: str} metadata) to path as safetensors, atomically."""
    for name, t in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        if t.dtype not in DTYPES:
            raise ValueError(f"tensor {name}: dtype {t.dtype} has no safetensors type fer-cl reads")
    order = sorted(tensors, key=lambda n: (-DTYPES[tensors[n].dtype][1], n))
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in order:
        data = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype][0], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    temp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(temp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for data in chunks:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def load_checkpoint(path, unsafe):
    try:
        return torch.load(path, map_location="cpu", weights_only=not unsafe)
    except TypeError:  # a torch without weights_only
        return torch.load(path, map_location="cpu")
    except Exception as e:  # weights_only refuses pickles with arbitrary objects
        if unsafe:
            raise
        raise SystemExit(f"error: cannot load {path} as plain tensors ({e}); if you trust the file, "
                         "run again with --unsafe-load") from None


def is_state_dict(obj):
    return isinstance(obj, dict) and obj and any(torch.is_tensor(v) for v in obj.values())


def find_state_dict(obj, key, path):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise SystemExit(f"error: {path} holds a {type(obj).__name__}, not a state_dict")
    if key is not None:
        if key not in obj:
            raise SystemExit(f"error: {path} has no key {key!r}; its keys: {', '.join(map(str, obj))}")
        return find_state_dict(obj[key], None, path)
    for k in WRAPPER_KEYS:
        if k in obj and (is_state_dict(obj[k]) or isinstance(obj[k], torch.nn.Module)):
            return find_state_dict(obj[k], None, path)
    if is_state_dict(obj):
        return obj
    raise SystemExit(f"error: no state_dict found in {path}; its keys: {', '.join(map(str, obj))} "
                     "(name the one to use with --key)")


def convert(state, prefixes, to_f32):
    out = {}
    for name, value in state.items():
        if not torch.is_tensor(value):
            print(f"note: skipping {name}: a {type(value).__name__}, not a tensor", file=sys.stderr)
            continue
        stripped = name
        for p in prefixes:
            while p and stripped.startswith(p):
                stripped = stripped[len(p):]
        if stripped in out:
            raise SystemExit(f"error: two tensors become {stripped!r} after stripping {prefixes}")
        if to_f32 and value.is_floating_point():
            value = value.float()
        if value.dtype not in DTYPES:
            raise SystemExit(f"error: tensor {name} has dtype {value.dtype}, which fer-cl does not read")
        out[stripped] = value
    if not out:
        raise SystemExit("error: the state_dict holds no tensors")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help=".pth / .pt file")
    ap.add_argument("output", help="safetensors file to write")
    ap.add_argument("--key", help="the checkpoint entry holding the state_dict (default: guess)")
    ap.add_argument("--strip-prefix", action="append", default=None,
                    help="prefix removed from names, repeatable (default: 'module.')")
    ap.add_argument("--f32", action="store_true", help="store floating-point tensors as F32")
    ap.add_argument("--unsafe-load", action="store_true",
                    help="allow arbitrary pickled objects (only for files you trust)")
    args = ap.parse_args(argv)
    checkpoint = load_checkpoint(args.input, args.unsafe_load)
    prefixes = args.strip_prefix if args.strip_prefix is not None else ["module."]
    tensors = convert(find_state_dict(checkpoint, args.key, args.input), prefixes, args.f32)
    save_file(tensors, args.output, {"format": "pt", "source": os.path.basename(args.input)})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    print(f"wrote {args.output}: {len(tensors)} tensors, {total} bytes of data")


if __name__ == "__main__":
    main()
