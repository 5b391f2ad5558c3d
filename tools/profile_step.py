#!/usr/bin/python3
"""One training step of fer-cl and of PyTorch, profiled side by side per layer and pass.

    tools/profile_step.py --channels 1 --input 48 --batch 64
    tools/profile_step.py --channels 3 --input 112 --batch 64 --json prof.json
    tools/profile_step.py --ssl          # the README recipe's semi-supervised step

Prints, for the same model and shape (options as tools/compare_torch_train.py),
milliseconds per step of each layer's forward and backward (a convolution's
backward split into backward-data and backward-weights), then a summary by
kind: convolutions (forward, backward-data, backward-weights), BN, ReLU,
pooling, residual adds, the loss, zeroing/accumulating gradients, the
optimizer, the teacher's EMA (--ssl), what is outside every op, and the step's
wall time. ratio = PyTorch ms / fer-cl ms, as in compare_torch_train.py (above
1: fer-cl is faster there).

fer-cl: `fer-cl bench --train --profile` records every kernel with its layer and
pass (bench-profile.csv); "host gap" is the step's wall time minus its kernel
time (launch overhead, host work, waits). PyTorch (torch.autograd.profiler):
each module's forward is a record_function range opened and closed by forward
pre/post hooks, so an op belongs to the innermost module running it; each
backward node (autograd::engine::evaluate_function) belongs to the module whose
forward op has its sequence number (FunctionEvent.sequence_nr); loss,
zero_grad, optimizer and EMA are ranges of the step (TorchStep and SSLTorchStep
from compare_torch_train.py, imported). PyTorch computes a convolution's two
gradients in one op (aten::convolution_backward), so its backward-data and
backward-weights rows split that op's profiled time in the proportion of the
two halves timed alone (convolution_backward with one output each, same
shapes) after the profile. "framework overhead" is the step's wall time minus
the time inside ops (Python, dispatch, the autograd engine between nodes).
In --ssl both sides run the teacher's forward through the same layers: a
layer's forward row is the student's and the teacher's together.

Every number is a mean over the profiled steps (--steps, after a warm-up
step), so that the parts add up to the wall time; the wall times are of
profiled steps and include the profilers' own cost (PyTorch's more: a
record_function per module call). tools/compare_torch_train.py measures
throughput.
Needs Debian's python3-torch and python3-torchvision (see compare_torch_train.py).
"""
import argparse
import collections
import csv
import json
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_torch_train as ctt  # noqa: E402  (the same model and step as the throughput tool)

RANGE = "fcl:"  # prefix of this tool's record_function ranges
MODULE = RANGE + "mod:"
BACKWARD_NODE = "autograd::engine::evaluate_function: "
PASSES = ["forward", "backward", "backward-data", "backward-weights"]


# ---- kinds: the summary rows ----

def layer_kind(layer):
    """The kind of a layer (fer-cl's layer names are torchvision's module names)."""
    last = layer.split(".")[-1]
    if layer.startswith("lae"):
        return "attention (LAE)"
    if re.fullmatch(r"conv\d+", last) or layer.endswith("downsample.0"):
        return "conv"
    if re.fullmatch(r"bn\d+", last) or layer.endswith("downsample.1"):
        return "BN"
    if last.startswith("relu"):
        return "ReLU"
    if last in ("maxpool", "avgpool"):
        return "pool"
    if last == "fc":
        return "fc (linear)"
    if last == "rfd":
        return "feature dropout"
    if re.fullmatch(r"layer\d+\.\d+", layer):
        return "add"  # a block's own ops: the residual add
    if last == "input":
        return "input (u8 -> float)"
    return "other"


def fercl_kind(op, layer, pass_):
    """Kind of one fer-cl kernel launch from its op tag, layer and pass."""
    if not layer:
        if "sgd" in op or "adam" in op:
            return "optimizer", "step"
        if "ema" in op:
            return "EMA (teacher)", "step"
        if op in ("fill", "zero_grad"):
            return "zero / accumulate grads", "step"
        if op.startswith("gather"):
            return "other", "step"  # the trainer's log values, gathered for one read
        return "loss, pseudo-labels", "step"
    if op.startswith("relu"):
        return "ReLU", pass_
    if op.startswith("add"):
        return "add", pass_
    return layer_kind(layer), pass_


# ---- fer-cl ----

def run_fercl(args, out_dir):
    report, train, cmd = ctt.bench_train(args, ["--profile", "--out", out_dir])
    layers = collections.OrderedDict()  # (layer, pass) -> us, in the order they ran
    kinds = collections.defaultdict(float)  # (kind, pass) -> us
    steps = set()
    kernel_us = 0.0
    with open(os.path.join(out_dir, "bench-profile.csv"), newline="") as f:
        for row in csv.DictReader(f):
            step = int(row["step"])
            if step < 1:
                continue  # the warm-up step
            steps.add(step)
            us = float(row["us"])
            kernel_us += us
            layer, pass_ = row["layer"], row["pass"]
            key = (layer or "(outside the network)", pass_ or "step")
            layers[key] = layers.get(key, 0.0) + us
            kinds[fercl_kind(row["op"], layer, pass_)] += us
    if not steps:
        sys.exit("fer-cl's profile has no timed step: %s" % os.path.join(out_dir, "bench-profile.csv"))
    n = len(steps)
    return {
        "command": cmd,
        "device": report["device"],
        "what": train["what"],
        "wall_ms": train["mean_s"] * 1e3,
        "wall_min_ms": train["min_s"] * 1e3,
        "kernel_ms": kernel_us / n / 1e3,
        "steps": n,
        "layers": collections.OrderedDict((k, v / n / 1e3) for k, v in layers.items()),
        "kinds": {k: v / n / 1e3 for k, v in kinds.items()},
    }


# ---- PyTorch ----

class Ranges:
    """record_function ranges for the step's parts and, through hooks, for every module."""

    def __init__(self, torch):
        self.torch = torch
        self.open = []
        self.convs = {}  # conv module name -> (module, input shape, output shape, input needs grad)

    def range(self, name):
        return self.torch.autograd.profiler.record_function(RANGE + name)

    def hook(self, model):
        profiler = self.torch.autograd.profiler
        for name, module in model.named_modules():
            if not name or isinstance(module, self.torch.nn.Sequential):
                continue  # the model and the stages: no ops of their own
            if name.startswith("lae") and "." in name:
                continue  # the attention's convolution: part of the layer, as in fer-cl

            def pre(mod, inputs, name=name):
                r = profiler.record_function(MODULE + name)
                r.__enter__()
                self.open.append(r)

            def post(mod, inputs, output, name=name):
                self.open.pop().__exit__(None, None, None)
                if isinstance(mod, self.torch.nn.Conv2d) and self.torch.is_grad_enabled():
                    self.convs[name] = (mod, tuple(inputs[0].shape), tuple(output.shape),
                                        inputs[0].requires_grad)

            module.register_forward_pre_hook(pre)
            module.register_forward_hook(post)


def torch_kind(label, module_types):
    if label.startswith("mod:"):
        name = label[4:]
        if name.startswith("lae"):
            return "attention (LAE)"
        t = module_types.get(name, "")
        return {"Conv2d": "conv", "BatchNorm2d": "BN", "ReLU": "ReLU", "MaxPool2d": "pool",
                "AdaptiveAvgPool2d": "pool", "Linear": "fc (linear)", "BasicBlock": "add",
                "FeatureDropout": "feature dropout"}.get(t, "other")
    return {"loss": "loss, pseudo-labels", "threshold": "loss, pseudo-labels",
            "teacher": "loss, pseudo-labels", "optimizer": "optimizer", "ema": "EMA (teacher)",
            "zero_grad": "zero / accumulate grads"}.get(label, "other")


def label_of(event):
    """The innermost range of this tool around an event: 'mod:NAME', 'loss', ... or None."""
    e = event.cpu_parent
    while e is not None:
        if e.name.startswith(RANGE):
            return e.name[len(RANGE):]
        e = e.cpu_parent
    return None


def in_backward(event):
    """Whether an event is, or runs inside, an autograd backward node."""
    e = event
    while e is not None:
        if e.name.startswith(BACKWARD_NODE):
            return True
        e = e.cpu_parent
    return False


def inside_op(event):
    """Whether an event runs inside another op (then that op's time counts it)."""
    e = event.cpu_parent
    while e is not None:
        if not e.name.startswith(RANGE):
            return True
        e = e.cpu_parent
    return False


def conv_split(torch, convs, reps=3):
    """For each convolution: the share of backward-data in its backward, from
    convolution_backward timed with one output at a time (min of reps)."""
    shares = {}
    for name, (mod, in_shape, out_shape, needs_dx) in convs.items():
        if not needs_dx:
            shares[name] = 0.0  # the image has no gradient: all of it is backward-weights
            continue
        x = torch.randn(in_shape)
        dy = torch.randn(out_shape)
        w = mod.weight.detach()
        times = []
        for mask in ([True, False, False], [False, True, False]):
            best = float("inf")
            for _ in range(reps):
                t0 = time.perf_counter()
                torch.ops.aten.convolution_backward(dy, x, w, None, mod.stride, mod.padding,
                                                   mod.dilation, False, [0, 0], mod.groups, mask)
                best = min(best, time.perf_counter() - t0)
            times.append(best)
        shares[name] = times[0] / (times[0] + times[1]) if sum(times) > 0 else 0.5
    return shares


def run_torch(args):
    import torch
    ranges = Ranges(torch)
    if args.ssl:
        step = ctt.SSLTorchStep(args, range_fn=ranges.range)
        models = [step.model, step.teacher]
    else:
        step = ctt.TorchStep(args, range_fn=ranges.range)
        models = [step.model]
    module_types = {}
    for m in models:
        ranges.hook(m)
        module_types.update((n, type(mod).__name__) for n, mod in m.named_modules() if n)
    step.step()  # warm-up
    walls = []
    with torch.autograd.profiler.profile() as prof:
        for _ in range(args.steps):
            walls.append(step.step())
    events = sorted(prof.function_events, key=lambda e: e.time_range.start)
    # A backward node has the sequence number of the forward op that made it. Ops
    # record the number they see next, so ops that make no node share it with the
    # one that does; that one comes last, since making a node advances the count.
    seq_label = {}
    order = []  # module names in the order their forward first ran
    for e in events:
        if e.name.startswith(MODULE) and e.name[len(MODULE):] not in order:
            order.append(e.name[len(MODULE):])
        if e.sequence_nr >= 0 and not e.name.startswith(RANGE) and not in_backward(e):
            seq_label[e.sequence_nr] = label_of(e)
    layers = collections.defaultdict(float)  # (layer, pass) -> us
    kinds = collections.defaultdict(float)
    op_us = 0.0
    for e in events:
        if e.name.startswith(RANGE) or inside_op(e):
            continue
        us = e.cpu_time_total
        op_us += us
        if e.name.startswith(BACKWARD_NODE):
            node = e.name[len(BACKWARD_NODE):]
            if "AccumulateGrad" in node:
                kinds[("zero / accumulate grads", "step")] += us
                continue
            label = seq_label.get(e.sequence_nr)
            pass_ = "backward"
        else:
            label = label_of(e)
            pass_ = "forward"
        if label is None:
            kinds[("other", "step")] += us
        elif label.startswith("mod:"):
            layers[(label[4:], pass_)] += us
            kinds[(torch_kind(label, module_types), pass_)] += us
        else:  # a part of the step (loss, optimizer, ...): forward and backward together
            kinds[(torch_kind(label, module_types), "step")] += us
    # The convolutions' backward, split into its halves.
    shares = conv_split(torch, ranges.convs)
    for name, share in shares.items():
        total = layers.pop((name, "backward"), 0.0)
        layers[(name, "backward-data")] += total * share
        layers[(name, "backward-weights")] += total * (1 - share)
        kind = torch_kind("mod:" + name, module_types)
        kinds[(kind, "backward")] -= total
        kinds[(kind, "backward-data")] += total * share
        kinds[(kind, "backward-weights")] += total * (1 - share)
    n = args.steps
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "wall_ms": statistics.mean(walls) * 1e3,
        "wall_min_ms": min(walls) * 1e3,
        "op_ms": op_us / n / 1e3,
        "order": order,
        "layers": {k: v / n / 1e3 for k, v in layers.items()},
        "kinds": {k: v / n / 1e3 for k, v in kinds.items() if abs(v) > 1e-9},
    }


# ---- the table ----

def merged_layers(fercl, pt):
    """fer-cl's layers in the order they ran, with PyTorch-only modules slotted in:
    a block's own ops (the residual add) after its last layer, others (ReLU)
    after their predecessor in PyTorch's order."""
    names = []
    for layer, _ in fercl["layers"]:
        if layer not in names and layer != "(outside the network)":
            names.append(layer)
    at = -1
    for name in pt["order"]:
        if name in names:
            at = names.index(name)
            continue
        if not any(layer == name for layer, _ in pt["layers"]):
            continue
        inner = [i for i, n in enumerate(names) if n.startswith(name + ".")]
        where = inner[-1] + 1 if inner else at + 1
        names.insert(where, name)
        at = where
    return names


def display(name):
    return name + " (add)" if re.fullmatch(r"layer\d+\.\d+", name) else name


def ratio(ours, theirs):
    return "%6.2f" % (theirs / ours) if ours >= 0.005 and theirs >= 0.005 else "     -"  # as printed


def table(fercl, pt):
    rows = []
    print("%-40s %10s %11s %7s" % ("layer / pass (ms per step)", "fer-cl", "PyTorch", "ratio"))
    for name in merged_layers(fercl, pt):
        for pass_ in PASSES:
            ours = fercl["layers"].get((name, pass_), 0.0)
            theirs = pt["layers"].get((name, pass_), 0.0)
            if ours < 0.005 and theirs < 0.005:
                continue
            rows.append({"layer": name, "pass": pass_, "fercl_ms": ours, "pytorch_ms": theirs})
            print("%-40s %10.2f %11.2f %7s" % ("%s %s" % (display(name), pass_), ours, theirs, ratio(ours, theirs)))
    kind_order = ["input (u8 -> float)", "conv", "BN", "ReLU", "add", "pool", "attention (LAE)",
                  "feature dropout", "fc (linear)", "loss, pseudo-labels", "zero / accumulate grads",
                  "optimizer", "EMA (teacher)", "other"]
    keys = set(fercl["kinds"]) | set(pt["kinds"])
    kinds = []
    print("\n%-40s %10s %11s %7s" % ("by kind (ms per step)", "fer-cl", "PyTorch", "ratio"))
    for kind in kind_order + sorted({k for k, _ in keys} - set(kind_order)):
        for pass_ in PASSES + ["step"]:
            ours, theirs = fercl["kinds"].get((kind, pass_), 0.0), pt["kinds"].get((kind, pass_), 0.0)
            if (kind, pass_) not in keys or (abs(ours) < 0.005 and abs(theirs) < 0.005):
                continue
            label = kind if pass_ == "step" else "%s %s" % (kind, pass_)
            kinds.append({"kind": kind, "pass": pass_, "fercl_ms": ours, "pytorch_ms": theirs})
            print("%-40s %10.2f %11.2f %7s" % (label, ours, theirs, ratio(ours, theirs)))
    gap = fercl["wall_ms"] - fercl["kernel_ms"]
    overhead = pt["wall_ms"] - pt["op_ms"]
    print("%-40s %10.2f %11s %7s" % ("fer-cl host gap (wall - kernels)", gap, "", ""))
    print("%-40s %10s %11.2f %7s" % ("PyTorch framework overhead", "", overhead, ""))
    print("%-40s %10.2f %11.2f %7s" % ("kernels / ops", fercl["kernel_ms"], pt["op_ms"],
                                       ratio(fercl["kernel_ms"], pt["op_ms"])))
    print("%-40s %10.2f %11.2f %7s" % ("total (wall, mean step)", fercl["wall_ms"], pt["wall_ms"],
                                       ratio(fercl["wall_ms"], pt["wall_ms"])))
    return rows, kinds, gap, overhead


def write_json(path, doc):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".profile_step.", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ctt.add_model_options(p)
    p.add_argument("--json", metavar="OUT", help="also write the tables as JSON to OUT")
    args = ctt.parse_model_options(p)
    if args.steps < 1:
        p.error("--steps must be at least 1")
    print("load average before: %s" % ctt.load_average())
    print(ctt.describe(args))
    with tempfile.TemporaryDirectory(prefix="fer-cl-profile-") as out_dir:
        fercl = run_fercl(args, out_dir)
    pt = run_torch(args)
    print("load average after: %s" % ctt.load_average())
    ctt.warn_if_loaded(args.threads)
    print("fer-cl (%s): %s" % (fercl["device"], fercl["command"]))
    print("PyTorch %s, %d threads; means of %d profiled steps each side; ratio = PyTorch / fer-cl\n"
          % (pt["torch"], pt["threads"], args.steps))
    rows, kinds, gap, overhead = table(fercl, pt)
    print("\nfer-cl fuses ReLU and the residual add into BN's kernels (its BN rows hold them); "
          "its 'add backward' sums the two\ngradients of a block's input. PyTorch's conv "
          "backward-data/-weights: its one convolution_backward op split\nin the proportion of "
          "the two halves timed alone.")
    if args.json:
        write_json(args.json, {
            "args": vars(args),
            "fercl": {k: fercl[k] for k in ("command", "device", "what", "wall_ms", "wall_min_ms",
                                           "kernel_ms", "steps")},
            "pytorch": {k: pt[k] for k in ("torch", "threads", "wall_ms", "wall_min_ms", "op_ms")},
            "fercl_host_gap_ms": gap,
            "pytorch_overhead_ms": overhead,
            "layers": rows,
            "kinds": kinds,
        })
        print("written: %s" % args.json)


if __name__ == "__main__":
    main()
