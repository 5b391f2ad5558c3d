#!/usr/bin/env python3
"""fer-cl's face detector beside facenet-pytorch 2.6.0's MTCNN on the same CPU, in one run.

Makes a 640×480 photo and a 256×256 portrait (Pillow resizes of the pictures given;
same pixels for both), runs `fer-cl bench --only faces --json` on them, then times
facenet-pytorch's MTCNN.detect on them (warm-up, then the median of --reps runs, torch
threads = --threads), and prints one table. A benchmark, not a test.

usage: /usr/bin/python3 tools/bench_faces_torch.py --wheel facenet_pytorch-2.6.0-py3-none-any.whl
           [--photo ../shared/data/photos/2008_002506.jpg]
           [--portrait ../shared/data/photos/Tom_Cruise_avp_2014_4.jpg] [--threads 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from check_faces_torch import reference  # noqa: E402  (puts facenet-pytorch on sys.path)


def main():
    photos = os.path.join(here, "..", "..", "shared", "data", "photos")
    ap = argparse.ArgumentParser()
    ap.add_argument("--fercl", default=os.path.join(here, "..", "build", "fer-cl"))
    ap.add_argument("--photo", default=os.path.join(photos, "2008_002506.jpg"))
    ap.add_argument("--portrait", default=os.path.join(photos, "Tom_Cruise_avp_2014_4.jpg"))
    ap.add_argument("--wheel")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    from PIL import Image
    tmp = tempfile.mkdtemp(prefix="fercl-bench-faces-")
    photo, portrait = os.path.join(tmp, "photo.png"), os.path.join(tmp, "portrait.png")
    Image.open(args.photo).convert("RGB").resize((640, 480), Image.BILINEAR).save(photo)
    im = Image.open(args.portrait).convert("RGB")
    side = min(im.size)
    im.crop(((im.width - side) // 2, 0, (im.width - side) // 2 + side, side)).resize((256, 256), Image.BILINEAR).save(portrait)
    out = subprocess.run([args.fercl, "bench", "--only", "faces", "--json", "--faces-photo", photo,
                          "--faces-portrait", portrait], check=True, capture_output=True, text=True).stdout
    rows = [r for r in json.loads(out)["results"] if r.get("section") == "faces"]
    reference([photo], args.wheel)  # imports facenet-pytorch, warms up
    import torch
    from facenet_pytorch import MTCNN
    torch.set_num_threads(args.threads)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    print(f"{'picture':<34} {'fer-cl ms (min/median)':>24} {'facenet-pytorch ms (min/median)':>32}")
    for row, path in zip(rows, (photo, portrait)):
        img = Image.open(path).convert("RGB")
        mtcnn.detect(img)
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            boxes, _ = mtcnn.detect(img)
            times.append((time.perf_counter() - t0) * 1e3)
        n = 0 if boxes is None else len(boxes)
        print(f"{row['name']:<34} {row['min_ms']:>11.1f} / {row['median_ms']:<10.1f} "
              f"{min(times):>15.1f} / {statistics.median(times):<8.1f} ({n} face{'s' if n != 1 else ''})")


if __name__ == "__main__":
    main()
