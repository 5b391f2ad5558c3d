#!/usr/bin/python3
"""Training throughput of fer-cl against PyTorch (CPU) on the same model, side by side.

Runs `fer-cl bench --train` (a plain supervised step: forward, cross-entropy,
backward, SGD with momentum) and the same step in PyTorch on torchvision's
ResNet, interleaved for a few rounds in this one invocation (the machine's load
changes; interleaving keeps the comparison fair), and prints images/s of both
(min-time and median) and their ratio.

    tools/compare_torch_train.py --channels 3 --input 112 --batch 64
    tools/compare_torch_train.py --channels 1 --input 48 --batch 64
    tools/compare_torch_train.py --torch-device cuda --device 0 --batch 256   # a GPU

With --torch-device cuda, PyTorch runs on the GPU in fp32 with TF32 off (so both
sides do the same arithmetic) and cudnn.benchmark on (cuDNN picks its fastest
algorithms, as a tuned PyTorch run would); --json FILE writes the summary.

Requirements (Debian 12), run with the system Python (/usr/bin/python3):
    apt-get install python3-torch python3-torchvision libopenblas0-pthread
PyTorch's CPU build uses the system BLAS through libblas.so.3: with only the
reference BLAS (libblas3) installed it is about 50x slower, which would make
the comparison meaningless. libopenblas0-pthread provides a fast libblas.so.3
(check: update-alternatives --display libblas.so.3-x86_64-linux-gnu).

Both sides use the same thread count (--threads, default: the number of CPUs
fer-cl's device has, i.e. all of them for PoCL) and random inputs already in
memory (no data loading). fer-cl's model is its ResNet without attention or
feature dropout, which is torchvision's ResNet (--stem imagenet: 7x7/2 conv +
max-pool, as torchvision; --stem small: 3x3/1 conv and no max-pool, applied to
the torchvision model too).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def run_fercl(args):
    cmd = [args.fercl, "bench", "--train", "--no-ssl", "--json",
           "--arch", args.arch, "--stem", args.stem, "--channels", str(args.channels),
           "--input", str(args.input), "--batch", str(args.batch), "--steps", str(args.steps)]
    if args.device is not None:
        cmd += ["--device", args.device]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.exit("fer-cl failed (%s):\n%s" % (" ".join(cmd), out.stderr))
    report = json.loads(out.stdout)
    step = report["train"][0]
    return step["min_s"], step["median_s"], report["device"], " ".join(cmd)


class TorchStep:
    def __init__(self, args):
        import torch
        import torchvision
        self.torch = torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(1)
        if args.torch_device == "cuda":
            if not torch.cuda.is_available():
                sys.exit("--torch-device cuda: this PyTorch has no CUDA device (torch %s)" % torch.__version__)
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cudnn.benchmark = True
        dev = torch.device(args.torch_device)
        builder = getattr(torchvision.models, args.arch)
        model = builder(num_classes=7)
        if args.stem == "small":
            model.conv1 = torch.nn.Conv2d(args.channels, 64, 3, 1, 1, bias=False)
            model.maxpool = torch.nn.Identity()
        elif args.channels != 3:
            model.conv1 = torch.nn.Conv2d(args.channels, 64, 7, 2, 3, bias=False)
        model.to(dev).train()
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.x = torch.randn(args.batch, args.channels, args.input, args.input, device=dev)
        self.y = torch.randint(0, 7, (args.batch,), device=dev)

    def step(self):
        t0 = time.perf_counter()
        self.opt.zero_grad(set_to_none=False)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        float(loss)  # wait for the value (on CUDA: a device synchronization)
        return time.perf_counter() - t0

    def run(self, steps):
        self.step()  # warm-up
        times = sorted(self.step() for _ in range(steps))
        return times[0], statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fercl", default=os.path.join(os.path.dirname(__file__), "..", "build", "fer-cl"),
                   help="fer-cl binary (default build/fer-cl)")
    p.add_argument("--device", help="fer-cl --device selector")
    p.add_argument("--arch", default="resnet18", choices=["resnet18", "resnet34"])
    p.add_argument("--stem", default="imagenet", choices=["imagenet", "small"])
    p.add_argument("--channels", type=int, default=3, choices=[1, 3])
    p.add_argument("--input", type=int, default=112)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=3, help="timed steps per round and side")
    p.add_argument("--rounds", type=int, default=2, help="fer-cl/PyTorch alternations")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="PyTorch threads (default: all CPUs, as PoCL uses)")
    p.add_argument("--torch-device", default="cpu", choices=["cpu", "cuda"],
                   help="where PyTorch runs (cuda: fp32, TF32 off, cudnn.benchmark on)")
    p.add_argument("--json", metavar="FILE", help="also write the summary to FILE as JSON")
    args = p.parse_args()

    print("load average before: %s" % load_average())
    print("model: %s, %dx%dx%d input, %s stem, batch %d; PyTorch on %s, threads: %d"
          % (args.arch, args.channels, args.input, args.input, args.stem, args.batch,
             args.torch_device, args.threads))
    torch_step = TorchStep(args)
    ours, theirs = [], []
    device, cmd = "?", ""
    for r in range(args.rounds):
        mn, med, device, cmd = run_fercl(args)
        ours.append((mn, med))
        print("round %d: fer-cl  %.3f s/step (median %.3f) = %6.1f img/s" % (r + 1, mn, med, args.batch / mn))
        mn, med = torch_step.run(args.steps)
        theirs.append((mn, med))
        print("round %d: PyTorch %.3f s/step (median %.3f) = %6.1f img/s" % (r + 1, mn, med, args.batch / mn))
        sys.stdout.flush()
    print("load average after: %s" % load_average())
    o_min = min(t[0] for t in ours)
    t_min = min(t[0] for t in theirs)
    o_med = statistics.median(t[1] for t in ours)
    t_med = statistics.median(t[1] for t in theirs)
    print("\nfer-cl (%s): %s" % (device, cmd))
    print("%-10s %12s %12s" % ("", "img/s (min)", "img/s (med)"))
    print("%-10s %12.1f %12.1f" % ("fer-cl", args.batch / o_min, args.batch / o_med))
    print("%-10s %12.1f %12.1f" % ("PyTorch", args.batch / t_min, args.batch / t_med))
    print("%-10s %12.2f %12.2f" % ("ratio", t_min / o_min, t_med / o_med))
    if args.json:
        summary = {"arch": args.arch, "stem": args.stem, "channels": args.channels,
                   "input": args.input, "batch": args.batch, "fercl_device": device,
                   "fercl_command": cmd, "torch_device": args.torch_device,
                   "fercl_img_s_min": args.batch / o_min, "fercl_img_s_median": args.batch / o_med,
                   "torch_img_s_min": args.batch / t_min, "torch_img_s_median": args.batch / t_med,
                   "ratio_min": t_min / o_min, "ratio_median": t_med / o_med}
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
