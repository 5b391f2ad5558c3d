#!/usr/bin/env python3
"""tools/compare_runs.py end to end: two tiny models trained on a generated folder dataset.

Checks that the tool's accuracy and mean class accuracy equal `fer-cl eval --json`'s for each
model, that a model compared with itself has no discordant image, p = 1 and a zero interval,
that the discordant counts add up to the accuracy difference, and McNemar's exact p-value on
hand-computed cases. Exit 77 (skip) without an OpenCL device.

usage: test_compare_runs.py FERCL_BIN TOOLS_DIR
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib

FERCL, TOOLS = sys.argv[1], sys.argv[2]
sys.path.insert(0, TOOLS)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import compare_runs  # noqa: E402

CLASSES = ["angry", "calm", "happy"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def write_png(path, side, pixels):
    """8-bit grayscale PNG, no filter."""
    raw = b"".join(b"\0" + bytes(pixels[y * side:(y + 1) * side]) for y in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_dataset(root):
    """Each class a different mean brightness under heavy noise: learnable, not perfectly."""
    rng = random.Random(7)
    for split, per_class in (("train", 12), ("val", 9)):
        for k, cls in enumerate(CLASSES):
            os.makedirs(os.path.join(root, split, cls))
            for i in range(per_class):
                px = [max(0, min(255, 90 + 30 * k + rng.randint(-90, 90))) for _ in range(32 * 32)]
                write_png(os.path.join(root, split, cls, f"{i:02d}.png"), 32, px)


def run(args):
    r = subprocess.run([FERCL, "--quiet"] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"'fer-cl {' '.join(args)}' exited {r.returncode}: {r.stderr}")
    return r.stdout


def compare(*args):
    """Run tools/compare_runs.py against the fer-cl under test."""
    return subprocess.run([sys.executable, os.path.join(TOOLS, "compare_runs.py"), "--fercl", FERCL] + list(args),
                          capture_output=True, text=True)


def main():
    # McNemar's exact test by hand: 0 vs 6 discordant is 2 * (1/2)^6; equal counts give 1.
    check(abs(compare_runs.mcnemar_exact(0, 6) - 2 / 64) < 1e-12, "McNemar p(0, 6) = 1/32")
    check(abs(compare_runs.mcnemar_exact(1, 5) - 2 * 7 / 64) < 1e-12, "McNemar p(1, 5) = 14/64")
    check(compare_runs.mcnemar_exact(4, 4) == 1.0 and compare_runs.mcnemar_exact(0, 0) == 1.0,
          "McNemar p = 1 for equal counts")
    # Large validation sets: more than 1,023 discordant images once overflowed 2.0 ** n.
    check(compare_runs.mcnemar_exact(1500, 1500) == 1.0 and 0.0 <= compare_runs.mcnemar_exact(900, 1300) < 1e-10,
          "McNemar p for 3,000 and 2,200 discordant images")

    if subprocess.run([FERCL, "--quiet", "devices"], capture_output=True).returncode != 0:
        print("no OpenCL device: skipped")
        sys.exit(77)

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "faces")
        make_dataset(data)
        models = []
        # The earlier defaults' thresholds: with the current ones both tiny models
        # classify every image right, and the comparison needs some disagreement.
        for seed in ("1", "2"):
            out = os.path.join(tmp, "run" + seed)
            run(["train", "--data", data, "--input", "32", "--width", "0.125", "--stem", "small",
                 "--arch", "resnet10", "--labels-per-class", "6", "--batch", "6", "--mu", "1",
                 "--steps", "30", "--ema", "0.9", "--dta", "freematch-fer", "--tau-min", "0.5",
                 "--eval-every", "0", "--save-every", "0", "--threads", "1",
                 "--seed", seed, "--out", out])
            models.append(os.path.join(out, "last.safetensors"))

        report = os.path.join(tmp, "cmp.json")
        r = compare("--data", data, "--bootstrap", "200", "--json", report, *models)
        print(r.stdout, r.stderr)
        check(r.returncode == 0, "compare_runs exits 0")
        with open(report) as f:
            doc = json.load(f)
        n = doc["images"]
        check(n == 9 * len(CLASSES), f"{n} images compared (the val split)")
        for side, model in zip(("a", "b"), models):
            ev = json.loads(run(["eval", "--model", model, "--data", data, "--json"]))
            check(abs(doc[side]["accuracy"] - ev["accuracy"]) < 1e-6,
                  f"{side}: accuracy {doc[side]['accuracy']:.4f} = eval's {ev['accuracy']:.4f}")
            check(abs(doc[side]["mean_class_accuracy"] - ev["mean_class_accuracy"]) < 1e-6,
                  f"{side}: mean class accuracy = eval's")
        check(doc["right_only_a"] + doc["right_only_b"] > 0, "the two models disagree on some images")
        diff = doc["b"]["accuracy"] - doc["a"]["accuracy"]
        check(abs(diff - (doc["right_only_b"] - doc["right_only_a"]) / n) < 1e-9,
              "discordant counts give the accuracy difference")
        lo, hi = doc["accuracy_diff_ci95"]
        check(lo <= diff + 1e-9 and diff - 1e-9 <= hi, f"interval [{lo:+.3f}, {hi:+.3f}] holds {diff:+.3f}")

        r = compare("--data", data, "--bootstrap", "50", "--json", report, models[0], models[0])
        with open(report) as f:
            doc = json.load(f)
        check(r.returncode == 0 and doc["right_only_a"] == 0 and doc["right_only_b"] == 0
              and doc["mcnemar_p"] == 1.0 and doc["accuracy_diff_ci95"] == [0.0, 0.0],
              "a model against itself: no discordant image, p = 1, interval [0, 0]")

        r = compare("--data", data, models[0], os.path.join(tmp, "missing.safetensors"))
        check(r.returncode == 2 and "missing.safetensors" in r.stderr, "a missing model: exit 2 naming it")

    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
