#!/usr/bin/env python3
"""Is model B really better than model A on the same images? A paired comparison.

Two runs evaluated on one validation set differ by a point or two; whether that is
more than the luck of which images the set happens to hold is a paired question
(both models see the same images). This tool asks `fer-cl predict` for each model's
top class on every image of a folder dataset, then prints

  - each model's accuracy and mean class accuracy (they match `fer-cl eval`),
  - the images only A gets right and only B gets right, with McNemar's exact
    two-sided p-value (binomial test on those discordant images),
  - 95 % paired-bootstrap intervals (resampling images, within each class, seed 1)
    for B - A in accuracy and in mean class accuracy.

This measures the validation set's noise for these two trained models; it says nothing
about the spread between training seeds, which needs more runs.

Standard library only. Folder datasets: ROOT/<class>/*.{jpg,jpeg,png} or
ROOT/{val,test}/<class>/... (val is used when present).

usage: compare_runs.py --fercl build/fer-cl --data DIR MODEL_A MODEL_B [--json OUT]
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys

IMAGE_EXT = (".jpg", ".jpeg", ".png")


def fail(msg):
    print(f"compare_runs: {msg}", file=sys.stderr)
    sys.exit(2)


def list_images(root):
    """(path, class name) for every image, classes sorted as fer-cl sorts them."""
    for split in ("val", "test"):
        if os.path.isdir(os.path.join(root, split)):
            root = os.path.join(root, split)
            break
    if not os.path.isdir(root):
        fail(f"'{root}' is not a folder; give a folder dataset (ROOT/<class>/*.jpg)")
    items = []
    for cls in sorted(os.listdir(root)):
        d = os.path.join(root, cls)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.lower().endswith(IMAGE_EXT):
                items.append((os.path.join(d, f), cls))
    if not items:
        fail(f"no images under '{root}/<class>/'")
    return items


def predict(fercl, device, model, paths, chunk=2000):
    """Top-1 class per image, in the order of paths."""
    out = []
    for i in range(0, len(paths), chunk):
        cmd = [fercl, "--quiet"] + (["--device", device] if device else [])
        cmd += ["predict", "--model", model, "--json", "--top", "1"] + paths[i:i + chunk]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"'{' '.join(cmd[:6])} ...' exited {r.returncode}: {r.stderr.strip()}")
        rows = json.loads(r.stdout)
        if len(rows) != len(paths[i:i + chunk]):
            fail(f"predict returned {len(rows)} rows for {len(paths[i:i + chunk])} images")
        out += [row["top"][0]["class"] for row in rows]
    return out


def mean_class_accuracy(correct, groups):
    """Mean over classes of the share of correct images; groups: each class's image indices."""
    return sum(sum(correct[i] for i in g) / len(g) for g in groups) / len(groups)


def mcnemar_exact(only_a, only_b):
    """Two-sided exact binomial p-value of only_b vs only_a under p = 1/2."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, j) for j in range(k + 1)) / 2 ** n  # int / int: no overflow past n = 1023
    return min(1.0, 2.0 * tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fercl", required=True, help="the fer-cl binary")
    ap.add_argument("--data", required=True, help="folder dataset (its val/ split when present)")
    ap.add_argument("--device", default="", help="fer-cl --device")
    ap.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--json", help="also write the numbers to this file")
    ap.add_argument("model_a")
    ap.add_argument("model_b")
    a = ap.parse_args()
    for m in (a.model_a, a.model_b):
        if not os.path.isfile(m):
            fail(f"model '{m}' does not exist")

    items = list_images(a.data)
    paths = [p for p, _ in items]
    labels = [c for _, c in items]
    classes = sorted(set(labels))
    pred_a = predict(a.fercl, a.device, a.model_a, paths)
    pred_b = predict(a.fercl, a.device, a.model_b, paths)
    ok_a = [int(p == y) for p, y in zip(pred_a, labels)]
    ok_b = [int(p == y) for p, y in zip(pred_b, labels)]
    n = len(labels)
    by_class = [[i for i in range(n) if labels[i] == c] for c in classes]

    acc_a, acc_b = sum(ok_a) / n, sum(ok_b) / n
    mca_a = mean_class_accuracy(ok_a, by_class)
    mca_b = mean_class_accuracy(ok_b, by_class)
    only_a = sum(1 for x, y in zip(ok_a, ok_b) if x and not y)
    only_b = sum(1 for x, y in zip(ok_a, ok_b) if y and not x)
    p = mcnemar_exact(only_a, only_b)

    # Stratified bootstrap: resample images within each class, so every resample keeps the
    # class sizes (and mean class accuracy stays defined).
    rng = random.Random(1)
    d_acc, d_mca = [], []
    for _ in range(a.bootstrap):
        groups = [[rng.choice(members) for _ in members] for members in by_class]
        d_acc.append(sum(ok_b[i] - ok_a[i] for g in groups for i in g) / n)
        d_mca.append(mean_class_accuracy(ok_b, groups) - mean_class_accuracy(ok_a, groups))

    def interval(v):
        v = sorted(v)
        return v[int(0.025 * (len(v) - 1))], v[int(0.975 * (len(v) - 1))]

    ci_acc, ci_mca = interval(d_acc), interval(d_mca)
    print(f"images {n}, classes {len(classes)}")
    print(f"A {a.model_a}: accuracy {acc_a:.4f}  mean class accuracy {mca_a:.4f}")
    print(f"B {a.model_b}: accuracy {acc_b:.4f}  mean class accuracy {mca_b:.4f}")
    print(f"right only by A: {only_a}  right only by B: {only_b}  McNemar exact p = {p:.4g}")
    print(f"B - A accuracy {acc_b - acc_a:+.4f}  95% paired bootstrap [{ci_acc[0]:+.4f}, {ci_acc[1]:+.4f}]")
    print(f"B - A mean class accuracy {mca_b - mca_a:+.4f}  95% paired bootstrap [{ci_mca[0]:+.4f}, {ci_mca[1]:+.4f}]")
    if a.json:
        doc = {"images": n, "a": {"model": a.model_a, "accuracy": acc_a, "mean_class_accuracy": mca_a},
               "b": {"model": a.model_b, "accuracy": acc_b, "mean_class_accuracy": mca_b},
               "right_only_a": only_a, "right_only_b": only_b, "mcnemar_p": p,
               "accuracy_diff_ci95": ci_acc, "mca_diff_ci95": ci_mca}
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
