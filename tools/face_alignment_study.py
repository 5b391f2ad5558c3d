#!/usr/bin/env python3
"""The alignment template and its margin, measured on FER2013 (README "Faces in photos").

FER2013's crops are loose face boxes. This study pastes FER2013 val faces, enlarged
by a random factor, at random positions into larger gray canvases, then:
  1. runs `fer-cl faces` on the canvases and maps the landmarks back into the 48×48
     crops: their mean is where FER2013 puts eyes, nose and mouth (the template);
  2. runs `fer-cl predict --faces always --face-margin M` on the canvases for
     several margins M, and `fer-cl predict --faces never` on the original crops
     and on the canvases (today's whole-picture predict), and prints the accuracy
     of each against the crops' labels.
Needs Pillow and numpy (Debian's /usr/bin/python3 has them), a FER2013 checkpoint
and the detector (tools/get-face-detector).

usage: /usr/bin/python3 tools/face_alignment_study.py --model best.safetensors
           [--fer2013 ../shared/data/fer2013] [--per-class 50] [--margins 0,0.1,...]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image


def run_json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--fercl", default=os.path.join(here, "..", "build", "fer-cl"))
    ap.add_argument("--fer2013", default=os.path.join(here, "..", "..", "shared", "data", "fer2013"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--per-class", type=int, default=50)
    ap.add_argument("--margins", default="-0.1,0,0.1,0.2,0.3")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    val = os.path.join(args.fer2013, "val")
    items = []
    for cls in sorted(os.listdir(val)):
        names = sorted(os.listdir(os.path.join(val, cls)))
        rng.shuffle(names)
        items += [(os.path.join(val, cls, n), cls) for n in names[:args.per_class]]
    tmp = tempfile.mkdtemp(prefix="fercl-align-")
    canv = []
    for i, (path, cls) in enumerate(items):
        face = Image.open(path).convert("RGB")
        scale = rng.uniform(2.0, 6.0)
        side = int(round(48 * scale))
        big = face.resize((side, side), Image.BILINEAR)
        W, H = 640, 480
        x0, y0 = rng.randint(0, W - side), rng.randint(0, H - side)
        noise = np.clip(np.random.default_rng(i).normal(128, 20, (H, W, 1)), 0, 255).astype(np.uint8)
        canvas = Image.fromarray(np.repeat(noise, 3, axis=2))
        canvas.paste(big, (x0, y0))
        out = os.path.join(tmp, f"{i:05d}.png")
        canvas.save(out)
        canv.append((out, cls, x0, y0, side / 48.0))
    paths = [c[0] for c in canv]

    # 1. landmarks in crop coordinates
    det = {e["image"]: e["faces"] for e in run_json([args.fercl, "faces", "--json"] + paths)}
    one = sum(len(det[p]) == 1 for p in paths)
    pts = []
    for p, cls, x0, y0, s in canv:
        if len(det[p]) == 1:
            lm = np.array(det[p][0]["landmarks"])
            pts.append(((lm - [x0, y0]) / s + 0.5) / 48.0)  # pixel centres → fractions of the side
    mean = np.mean(pts, axis=0)
    print(f"{len(paths)} canvases: exactly one face found in {one}, none in "
          f"{sum(len(det[p]) == 0 for p in paths)}, more in {sum(len(det[p]) > 1 for p in paths)}")
    print("mean landmarks in the 48x48 crop (fractions of the side; eyes, nose, mouth corners):")
    print("  " + ", ".join(f"{v:.4f}" for v in mean.reshape(-1)))

    def accuracy(entries, labels):
        ok = 0
        for e, label in zip(entries, labels):
            faces = e["faces"] if "faces" in e else [e]  # --faces never on small crops: one entry
            if len(faces) >= 1 and faces[0]["top"][0]["class"] == label:
                ok += 1
        return ok / len(labels)

    if not args.margins:
        return
    labels = [c[1] for c in canv]
    base = [args.fercl, "predict", "--model", args.model, "--json"]
    crops = run_json(base + ["--faces", "never"] + [i[0] for i in items])
    print(f"accuracy on the 48x48 crops themselves (--faces never): {accuracy(crops, labels):.4f}")
    whole = run_json(base + ["--faces", "never"] + paths)
    print(f"accuracy on the canvases resized whole (--faces never, today's predict): {accuracy(whole, labels):.4f}")
    for m in args.margins.split(","):
        r = run_json(base + ["--faces", "always", "--face-margin", m] + paths)
        print(f"accuracy on the canvases, faces found and aligned, --face-margin {m}: {accuracy(r, labels):.4f}")


if __name__ == "__main__":
    main()
