#!/usr/bin/env python3
"""Cross-checks fer-cl's face detector against facenet-pytorch 2.6.0's MTCNN.

Optional developer check, like the other torch checks (never part of `meson
test`). Runs `fer-cl faces --json` and facenet-pytorch's MTCNN (default
thresholds 0.6/0.7/0.7, min face 20, factor 0.709, CPU) on the same photos and
requires the same faces: every reference face matched by one of ours at IoU ≥
0.5 and none left over, boxes and landmarks within 2 px, probabilities within 1e-3.

facenet-pytorch: installed, or the wheel (pip download facenet-pytorch==2.6.0
--no-deps) given with --wheel, which is unpacked into a temp folder and put on
sys.path (its torch/torchvision/PIL come from the running Python: Debian's
/usr/bin/python3 with python3-torch, python3-torchvision, python3-pil).

usage: /usr/bin/python3 tools/check_faces_torch.py [--fercl build/fer-cl]
           [--photos ../shared/data/photos] [--wheel FILE] [--detector FILE] [IMAGE...]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import types
import zipfile

BOX_TOL, SCORE_TOL = 2.0, 1e-3


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def reference(images, wheel):
    if wheel:
        tmp = tempfile.mkdtemp(prefix="facenet-")
        zipfile.ZipFile(wheel).extractall(tmp)
        sys.path.insert(0, tmp)
    # facenet_pytorch's package __init__ imports its weight downloader, which wants tqdm.
    if "tqdm" not in sys.modules:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            stub = types.ModuleType("tqdm")
            stub.tqdm = None
            sys.modules["tqdm"] = stub
    import torch
    from PIL import Image
    from facenet_pytorch import MTCNN

    torch.set_num_threads(2)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    out = {}
    for path in images:
        boxes, scores, points = mtcnn.detect(Image.open(path).convert("RGB"), landmarks=True)
        out[path] = [] if boxes is None else [
            {"box": b.tolist(), "score": float(s), "landmarks": p.tolist()} for b, s, p in zip(boxes, scores, points)]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="fer-cl faces vs facenet-pytorch's MTCNN")
    ap.add_argument("--fercl", default=os.path.join(here, "..", "build", "fer-cl"))
    ap.add_argument("--photos", default=os.path.join(here, "..", "..", "shared", "data", "photos"))
    ap.add_argument("--wheel", help="facenet_pytorch-2.6.0-py3-none-any.whl (else: installed)")
    ap.add_argument("--detector", help="fer-cl's detector file (else its default)")
    ap.add_argument("images", nargs="*")
    args = ap.parse_args()
    images = args.images or sorted(glob.glob(os.path.join(args.photos, "*.jpg")))
    if not images:
        sys.exit(f"check_faces_torch: no photos in {args.photos}")
    cmd = [args.fercl, "faces", "--json"] + (["--detector", args.detector] if args.detector else []) + images
    ours = {e["image"]: e["faces"] for e in json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)}
    ref = reference(images, args.wheel)
    bad = 0
    worst = [0.0, 0.0, 0.0]
    for path in images:
        rf, of = ref[path], ours.get(path, [])
        used = set()
        missing = 0
        for r in rf:
            cands = [j for j in range(len(of)) if j not in used and iou(r["box"], of[j]["box"]) >= 0.5]
            if not cands:
                missing += 1
                continue
            j = max(cands, key=lambda k: iou(r["box"], of[k]["box"]))
            used.add(j)
            o = of[j]
            db = max(abs(x - y) for x, y in zip(r["box"], o["box"]))
            dl = max(abs(x - y) for p, q in zip(r["landmarks"], o["landmarks"]) for x, y in zip(p, q))
            ds = abs(r["score"] - o["score"])
            worst = [max(worst[0], db), max(worst[1], dl), max(worst[2], ds)]
            if db > BOX_TOL or dl > BOX_TOL or ds > SCORE_TOL:
                bad += 1
        extra = len(of) - len(used)
        bad += missing + extra
        print(f"{os.path.basename(path)}: facenet-pytorch {len(rf)}, fer-cl {len(of)}, "
              f"unmatched reference {missing}, unmatched fer-cl {extra}")
    print(f"max |box − reference| {worst[0]:.3f} px, max |landmark − reference| {worst[1]:.3f} px, "
          f"max |probability − reference| {worst[2]:.2e}")
    if bad:
        sys.exit(f"check_faces_torch: FAIL ({bad} faces differ)")
    print("check_faces_torch: OK (same faces; boxes and landmarks within 2 px)")


if __name__ == "__main__":
    main()
