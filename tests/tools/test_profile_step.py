#!/usr/bin/env python3
"""tools/profile_step.py's fer-cl half against the built binary (no PyTorch needed).

Profiles a tiny supervised step and a tiny semi-supervised step and checks that every
convolution after the stem has backward-data and backward-weights rows, the stem only
backward-weights, BN plain forward/backward rows, that the per-layer and per-kind sums both
equal the kernel time, and that the semi-supervised step shows the optimizer and the EMA.
Also checks the ordering of PyTorch-only modules in the merged layer list.
Exit 77 (skip) without an OpenCL device.

usage: test_profile_step.py FERCL_BIN TOOLS_DIR
"""
import argparse
import subprocess
import sys
import tempfile

FERCL, TOOLS = sys.argv[1], sys.argv[2]
sys.path.insert(0, TOOLS)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import profile_step  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


probe = subprocess.run([FERCL, "devices"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if probe.returncode != 0:
    print("skip: no OpenCL device (%s)" % probe.stderr.strip())
    sys.exit(77)

for ssl in (False, True):
    args = argparse.Namespace(fercl=FERCL, device=None, ssl=ssl, arch="resnet18", stem="imagenet",
                              channels=1, input=32, width=0.125, batch=2, mu=1, lae_kernel=3, steps=2)
    with tempfile.TemporaryDirectory() as out:
        r = profile_step.run_fercl(args, out)
    what = "ssl" if ssl else "supervised"
    layers, kinds = r["layers"], r["kinds"]
    check(r["steps"] == 2, "%s: two timed steps (warm-up left out): %d" % (what, r["steps"]))
    check(("conv1", "backward-weights") in layers and ("conv1", "backward-data") not in layers,
          "%s: the stem convolution has only backward-weights" % what)
    for conv in ("layer1.0.conv1", "layer2.0.conv2", "layer4.1.conv2", "layer3.0.downsample.0"):
        check((conv, "backward-data") in layers and (conv, "backward-weights") in layers,
              "%s: %s has backward-data and backward-weights" % (what, conv))
    check(("layer1.0.bn1", "forward") in layers and ("layer1.0.bn1", "backward") in layers,
          "%s: BN has forward and backward" % what)
    check(abs(sum(layers.values()) - r["kernel_ms"]) < 1e-6 * max(1.0, r["kernel_ms"]),
          "%s: layers add up to the kernel time (%.4f vs %.4f ms)" % (what, sum(layers.values()), r["kernel_ms"]))
    check(abs(sum(kinds.values()) - r["kernel_ms"]) < 1e-6 * max(1.0, r["kernel_ms"]),
          "%s: kinds add up to the kernel time" % what)
    check(kinds.get(("optimizer", "step"), 0) > 0, "%s: the optimizer has kernel time" % what)
    check(kinds.get(("conv", "backward-data"), 0) > 0 and kinds.get(("conv", "backward-weights"), 0) > 0,
          "%s: conv backward halves by kind" % what)
    check((kinds.get(("EMA (teacher)", "step"), 0) > 0) == ssl, "%s: EMA only in the semi-supervised step" % what)
    check((("lae4", "forward") in layers) == ssl, "%s: attention only in the semi-supervised step" % what)
    check(r["wall_ms"] > 0 and r["kernel_ms"] > 0, "%s: a wall time and a kernel time" % what)

fercl = {"layers": {("conv1", "forward"): 1, ("bn1", "forward"): 1, ("layer1.0.conv1", "forward"): 1,
                    ("layer1.0.bn1", "forward"): 1, ("layer1.0.conv2", "forward"): 1,
                    ("layer1.0.bn2", "forward"): 1, ("layer1.1.conv1", "forward"): 1}}
pt = {"order": ["conv1", "bn1", "relu", "layer1.0", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu",
                "layer1.0.conv2", "layer1.0.bn2", "layer1.1", "layer1.1.conv1"],
      "layers": {("relu", "forward"): 1, ("layer1.0", "forward"): 1, ("layer1.0.relu", "forward"): 1,
                 ("layer1.1", "forward"): 1}}
merged = profile_step.merged_layers(fercl, pt)
check(merged == ["conv1", "bn1", "relu", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2",
                 "layer1.0.bn2", "layer1.0", "layer1.1.conv1", "layer1.1"],
      "merged order: ReLU after its BN, a block's add after its last layer: %s" % merged)

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
