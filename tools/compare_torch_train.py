#!/usr/bin/python3
"""Training throughput of fer-cl against PyTorch (CPU) on the same model, side by side.

Runs `fer-cl bench --train` (a plain supervised step: forward, cross-entropy,
backward, SGD with momentum) and the same step in PyTorch on torchvision's
ResNet, interleaved for a few rounds in this one invocation (the machine's load
changes; interleaving keeps the comparison fair), and prints images/s of both
(min-time and median) and their ratio.

    tools/compare_torch_train.py --channels 3 --input 112 --batch 64
    tools/compare_torch_train.py --channels 1 --input 48 --batch 64
    tools/compare_torch_train.py --ssl          # the README's FER2013 recipe, full step
    tools/compare_torch_train.py --torch-device cuda --device 0 --batch 256   # a GPU

With --torch-device cuda, PyTorch runs on the GPU in fp32 with TF32 off (so both
sides do the same arithmetic) and cudnn.benchmark on (cuDNN picks its fastest
algorithms, as a tuned PyTorch run would); --json FILE writes the summary.

--ssl times the full semi-supervised step of the README's FER2013 recipe
(defaults then: resnet18 at width 0.5, imagenet stem, 1x48x48, LAE k 3 after
stages 3 and 4, random feature-map dropout, batch 32 labelled + mu 3 -> 96
unlabelled): the student's forward and backward on the 32 labelled and 96
strong views in one batch, the teacher's forward (eval mode) on the 96 weak
views, pseudo-labels masked by FreeMatch-style class thresholds computed on the
device, cross-entropy + masked pseudo-label cross-entropy + the SNL negative
loss, SGD (Nesterov, weight decay 5e-4 on weights) and the EMA update of the
teacher's parameters and BN buffers. fer-cl runs `bench --train
--no-supervised` (its trainer's step on synthetic faces: the step includes
staging the batch its loader threads decoded and augmented); PyTorch runs the
same step, written below, on random tensors already in memory. images/s counts
the images through the student per step (32 + 96 = 128) on both sides.

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
import contextlib
import json
import math
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


def warn_if_loaded(threads):
    """PyTorch's OpenMP threads wait for each other at every op: with the CPUs
    shared they lose far more than PoCL's (seen: a step 4x slower at 2 threads
    than at 1 with the load average at 17 on 2 CPUs), so a ratio is then noise."""
    try:
        load = float(open("/proc/loadavg").read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if load > (os.cpu_count() or 1) + 0.5:
        print("warning: load average %.1f on %d CPUs: other work shares them, and PyTorch "
              "(%d OpenMP thread%s) suffers far more from that than fer-cl; the ratio below "
              "says little" % (load, os.cpu_count() or 1, threads, "" if threads == 1 else "s"))


def bench_train(args, extra=()):
    """Runs `fer-cl bench --train --json` for the step and model options (extra:
    more bench options); returns its JSON report, the step's entry and the command."""
    cmd = [args.fercl, "bench", "--train", "--json", *extra,
           "--arch", args.arch, "--stem", args.stem, "--channels", str(args.channels),
           "--input", str(args.input), "--width", "%g" % args.width, "--steps", str(args.steps)]
    if args.ssl:
        cmd += ["--no-supervised", "--ssl-batch", str(args.batch), "--mu", str(args.mu),
                "--lae-kernel", str(args.lae_kernel)]
    else:
        cmd += ["--no-ssl", "--batch", str(args.batch)]
    if args.device is not None:
        cmd += ["--device", args.device]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.exit("fer-cl failed (%s):\n%s" % (" ".join(cmd), out.stderr))
    report = json.loads(out.stdout)
    step = report["train"][0]
    images = args.batch * (1 + args.mu) if args.ssl else args.batch
    if step["images_per_step"] != images:
        sys.exit("fer-cl timed %d images per step, not %d: %s" % (step["images_per_step"], images, step["what"]))
    return report, step, " ".join(cmd)


def run_fercl(args):
    report, step, cmd = bench_train(args)
    return step["min_s"], step["median_s"], report["device"], cmd


BLOCKS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}


def stage_channels(width):
    """fer-cl's base width: lround(64 * width), at least 1 (fc_net_stage_channels)."""
    return max(1, int(math.floor(64.0 * width + 0.5)))


def build_resnet(args, lae_kernel=0, rfd=False):
    """torchvision's ResNet for the model options; fer-cl's extras on request.

    At width 1 without extras it is torchvision's model itself; otherwise a
    ResNet of torchvision's BasicBlocks with the stage widths scaled as fer-cl
    scales them, the same module names (conv1, layer1.0.conv1, ..., fc) and
    fer-cl's LAE (lae3, lae4) and feature dropout (rfd) where it puts them.
    """
    import torch
    import torchvision
    from torchvision.models.resnet import BasicBlock, ResNet

    if args.width == 1 and not lae_kernel and not rfd:
        model = getattr(torchvision.models, args.arch)(num_classes=7)
        if args.stem == "small":
            model.conv1 = torch.nn.Conv2d(args.channels, 64, 3, 1, 1, bias=False)
            model.maxpool = torch.nn.Identity()
        elif args.channels != 3:
            model.conv1 = torch.nn.Conv2d(args.channels, 64, 7, 2, 3, bias=False)
        return model

    class SpatialAttention(torch.nn.Module):
        """fer-cl's LAE (cl/lae.cl): A = sigmoid(conv_kxk([mean_c x, max_c x]) + b),
        y = x * (1 + A)."""

        def __init__(self, k):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 1, k, 1, k // 2, bias=True)

        def forward(self, x):
            m = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
            return x * (1 + torch.sigmoid(self.conv(m)))

    class FeatureDropout(torch.nn.Module):
        """fer-cl's random feature-map dropout (cl/rfd.cl): with probability p a
        sample loses one block x block square, at a random place, in every channel;
        the rest of that sample is scaled by H*W / kept. Identity in eval mode."""

        def __init__(self, p=0.5, block=0):
            super().__init__()
            self.p, self.block = p, block

        def forward(self, x):
            n, _, h, w = x.shape
            blk = self.block if self.block > 0 else (h + 2) // 3  # fc_rfd_default_block
            bh, bw = min(blk, h), min(blk, w)
            if not self.training or bh * bw >= h * w:
                return x
            dev = x.device
            drop = torch.rand(n, device=dev) < self.p
            y0 = torch.randint(0, h - bh + 1, (n,), device=dev)
            x0 = torch.randint(0, w - bw + 1, (n,), device=dev)
            rows = torch.arange(h, device=dev).view(1, h, 1)
            cols = torch.arange(w, device=dev).view(1, 1, w)
            inside = ((rows >= y0.view(n, 1, 1)) & (rows < (y0 + bh).view(n, 1, 1))
                      & (cols >= x0.view(n, 1, 1)) & (cols < (x0 + bw).view(n, 1, 1)))
            scale = float(h * w) / float(h * w - bh * bw)
            keep = torch.where(inside, torch.zeros((), device=dev), torch.full((), scale, device=dev))
            keep = torch.where(drop.view(n, 1, 1), keep, torch.ones((), device=dev))
            return x * keep.unsqueeze(1)

    class ScaledResNet(ResNet):
        def __init__(self):
            torch.nn.Module.__init__(self)
            self._norm_layer = torch.nn.BatchNorm2d
            self.dilation, self.groups, self.base_width = 1, 1, 64
            c0 = stage_channels(args.width)
            self.inplanes = c0
            if args.stem == "small":
                self.conv1 = torch.nn.Conv2d(args.channels, c0, 3, 1, 1, bias=False)
                self.maxpool = torch.nn.Identity()
            else:
                self.conv1 = torch.nn.Conv2d(args.channels, c0, 7, 2, 3, bias=False)
                self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
            self.bn1 = torch.nn.BatchNorm2d(c0)
            self.relu = torch.nn.ReLU(inplace=True)
            blocks = BLOCKS[args.arch]
            self.layer1 = self._make_layer(BasicBlock, c0, blocks[0])
            self.layer2 = self._make_layer(BasicBlock, 2 * c0, blocks[1], stride=2)
            self.layer3 = self._make_layer(BasicBlock, 4 * c0, blocks[2], stride=2)
            self.lae3 = SpatialAttention(lae_kernel) if lae_kernel else torch.nn.Identity()
            self.layer4 = self._make_layer(BasicBlock, 8 * c0, blocks[3], stride=2)
            self.lae4 = SpatialAttention(lae_kernel) if lae_kernel else torch.nn.Identity()
            self.rfd = FeatureDropout() if rfd else torch.nn.Identity()
            self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
            self.fc = torch.nn.Linear(8 * c0, 7)
            for m in self.modules():
                if isinstance(m, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def _forward_impl(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.lae3(self.layer3(self.layer2(self.layer1(x))))
            x = self.rfd(self.lae4(self.layer4(x)))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ScaledResNet()


def torch_device(args):
    """Where PyTorch runs: the CPU, or with --torch-device cuda the GPU in fp32
    (TF32 off) with cuDNN's autotuner on."""
    import torch
    if getattr(args, "torch_device", "cpu") != "cuda":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        sys.exit("--torch-device cuda: this PyTorch has no CUDA device (torch %s)" % torch.__version__)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    return torch.device("cuda")


class TorchStep:
    """The supervised step in PyTorch. range_fn(name), when given (by
    tools/profile_step.py), returns a context manager that wraps each part of
    the step (zero_grad, loss, optimizer) for a profiler."""

    def __init__(self, args, range_fn=None):
        import torch
        self.torch = torch
        self.range = range_fn or (lambda name: contextlib.nullcontext())
        torch.set_num_threads(args.threads)
        torch.manual_seed(1)
        dev = torch_device(args)
        model = build_resnet(args).to(dev)
        model.train()
        self.model = model
        self.images = args.batch  # through the model per step
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.x = torch.randn(args.batch, args.channels, args.input, args.input, device=dev)
        self.y = torch.randint(0, 7, (args.batch,), device=dev)

    def step(self):
        t0 = time.perf_counter()
        with self.range("zero_grad"):
            self.opt.zero_grad(set_to_none=False)
        z = self.model(self.x)
        with self.range("loss"):
            loss = self.torch.nn.functional.cross_entropy(z, self.y)
        loss.backward()
        with self.range("optimizer"):
            self.opt.step()
        float(loss)  # wait for the value (on CUDA: a device synchronization)
        return time.perf_counter() - t0

    def run(self, steps):
        self.step()  # warm-up
        times = sorted(self.step() for _ in range(steps))
        return times[0], statistics.median(times)


class SSLTorchStep(TorchStep):
    """The full semi-supervised step of fer-cl's default recipe in PyTorch
    (src/ssl/trainer.c enqueue_step): teacher on the weak views, FreeMatch-style
    thresholds and mask, student on [labelled | strong], CE + masked pseudo-label
    CE + SNL negative loss, SGD with Nesterov momentum, EMA of the teacher.
    Everything stays on the device (no host round trip before the loss value).
    Steps may be wrapped in record_function ranges by a profiler (range())."""

    TAU_MIN, TAU_MAX, DTA_MOMENTUM, TAU_N, NL_EPS, EMA = 0.5, 0.95, 0.999, 0.05, 1e-6, 0.999

    def __init__(self, args, range_fn=None):
        import copy
        import torch
        self.torch = torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(1)
        self.range = range_fn or (lambda name: contextlib.nullcontext())
        dev = torch_device(args)
        self.model = build_resnet(args, lae_kernel=args.lae_kernel, rfd=True).to(dev).train()
        self.teacher = copy.deepcopy(self.model).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        decay = [p for p in self.model.parameters() if p.dim() > 1]
        no_decay = [p for p in self.model.parameters() if p.dim() <= 1]
        self.opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                                    {"params": no_decay, "weight_decay": 0.0}],
                                   lr=0.03, momentum=0.9, nesterov=True)
        self.t_state = [t for t in list(self.teacher.parameters()) + list(self.teacher.buffers())
                        if t.is_floating_point()]
        self.s_state = [t for t in list(self.model.parameters()) + list(self.model.buffers())
                        if t.is_floating_point()]
        bl, bu, c = args.batch, args.batch * args.mu, 7
        shape = (args.channels, args.input, args.input)
        self.x_l = torch.randn(bl, *shape, device=dev)
        self.u_w = torch.randn(bu, *shape, device=dev)
        self.u_s = torch.randn(bu, *shape, device=dev)
        self.x = torch.cat([self.x_l, self.u_s])
        self.y = torch.randint(0, c, (bl,), device=dev)
        self.bl, self.bu, self.c = bl, bu, c
        # FreeMatch-FER state: mean confidence, then the class means (fc_dta_freematch_init).
        self.dta = torch.full((c + 1,), 1.0 / c, device=dev)
        self.images = bl + bu
        self.n = 0

    def step(self):
        torch, F = self.torch, self.torch.nn.functional
        t0 = time.perf_counter()
        with self.range("teacher"), torch.no_grad():
            q = torch.softmax(self.teacher(self.u_w), 1)
        with self.range("threshold"), torch.no_grad():
            conf, argmax = q.max(1)
            stats = torch.cat([conf.mean().view(1), q.mean(0)])
            self.dta.mul_(self.DTA_MOMENTUM).add_(stats, alpha=1 - self.DTA_MOMENTUM)
            cls = self.dta[1:]
            tau = (self.dta[0] * cls / cls.max()).clamp(self.TAU_MIN, self.TAU_MAX)
            mask = (conf >= tau[argmax]).float()
            rank = q.argsort(1, descending=True).argsort(1)
            neg = ((q < self.TAU_N) & (rank >= 2) & (mask.view(-1, 1) == 0)).float()
        with self.range("zero_grad"):
            self.opt.zero_grad(set_to_none=False)
        z = self.model(self.x)
        with self.range("loss"):
            z_l, z_u = z[:self.bl], z[self.bl:]
            loss_s = F.cross_entropy(z_l, self.y)
            loss_u = (F.cross_entropy(z_u, argmax, reduction="none") * mask).sum() / self.bu
            p_u = torch.softmax(z_u, 1)
            loss_n = ((-torch.log(1 - p_u + self.NL_EPS) * neg).sum(1) * (1 - mask)).sum() / self.bu
            loss = loss_s + loss_u + loss_n
        loss.backward()
        with self.range("optimizer"):
            self.opt.step()
        with self.range("ema"), torch.no_grad():
            m = min(1.0 - 1.0 / (self.n + 1), self.EMA)  # fc_ema_momentum_at
            torch._foreach_mul_(self.t_state, m)
            torch._foreach_add_(self.t_state, self.s_state, alpha=1.0 - m)
        self.n += 1
        float(loss)  # wait for the value
        return time.perf_counter() - t0


def add_model_options(p):
    """The model, shape and step options (shared with tools/profile_step.py)."""
    p.add_argument("--fercl", default=os.path.join(os.path.dirname(__file__), "..", "build", "fer-cl"),
                   help="fer-cl binary (default build/fer-cl)")
    p.add_argument("--device", help="fer-cl --device selector")
    p.add_argument("--ssl", action="store_true",
                   help="the full semi-supervised step of the README's FER2013 recipe; its defaults: "
                        "--width 0.5 --channels 1 --input 48 --batch 32 --mu 3 --lae-kernel 3")
    p.add_argument("--arch", default="resnet18", choices=sorted(BLOCKS))
    p.add_argument("--stem", default="imagenet", choices=["imagenet", "small"])
    p.add_argument("--channels", type=int, choices=[1, 3], help="default 3 (--ssl: 1)")
    p.add_argument("--input", type=int, help="default 112 (--ssl: 48)")
    p.add_argument("--width", type=float, help="channel multiplier, default 1 (--ssl: 0.5)")
    p.add_argument("--batch", type=int, help="default 64 (--ssl: 32 labelled)")
    p.add_argument("--mu", type=int, default=3, help="--ssl: unlabelled batch = mu x batch")
    p.add_argument("--lae-kernel", type=int, default=3, choices=[3, 7], help="--ssl: attention kernel")
    p.add_argument("--steps", type=int, default=3, help="timed steps per round and side")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="PyTorch threads (default: all CPUs, as PoCL uses)")


def parse_model_options(p):
    args = p.parse_args()
    defaults = ({"channels": 1, "input": 48, "width": 0.5, "batch": 32} if args.ssl else
                {"channels": 3, "input": 112, "width": 1.0, "batch": 64})
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def describe(args):
    text = ("model: %s width %g, %dx%dx%d input, %s stem, "
            % (args.arch, args.width, args.channels, args.input, args.input, args.stem))
    if args.ssl:
        text += ("semi-supervised step: batch %d labelled + %d unlabelled (mu %d), LAE k %d, "
                 "feature dropout, teacher on %d weak views; images/s = images through the "
                 "student per second (%d per step)"
                 % (args.batch, args.batch * args.mu, args.mu, args.lae_kernel, args.batch * args.mu,
                    args.batch * (1 + args.mu)))
    else:
        text += "supervised step, batch %d" % args.batch
    return text + "; PyTorch on %s, threads: %d" % (getattr(args, "torch_device", "cpu"), args.threads)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_options(p)
    p.add_argument("--rounds", type=int, default=2, help="fer-cl/PyTorch alternations")
    p.add_argument("--torch-device", default="cpu", choices=["cpu", "cuda"],
                   help="where PyTorch runs (cuda: fp32, TF32 off, cudnn.benchmark on)")
    p.add_argument("--json", metavar="FILE", help="also write the summary to FILE as JSON")
    args = parse_model_options(p)

    print("load average before: %s" % load_average())
    print(describe(args))
    torch_step = SSLTorchStep(args) if args.ssl else TorchStep(args)
    images = torch_step.images
    ours, theirs = [], []
    device, cmd = "?", ""
    for r in range(args.rounds):
        mn, med, device, cmd = run_fercl(args)
        ours.append((mn, med))
        print("round %d: fer-cl  %.3f s/step (median %.3f) = %6.1f img/s" % (r + 1, mn, med, images / mn))
        mn, med = torch_step.run(args.steps)
        theirs.append((mn, med))
        print("round %d: PyTorch %.3f s/step (median %.3f) = %6.1f img/s" % (r + 1, mn, med, images / mn))
        sys.stdout.flush()
    print("load average after: %s" % load_average())
    warn_if_loaded(args.threads)
    o_min = min(t[0] for t in ours)
    t_min = min(t[0] for t in theirs)
    o_med = statistics.median(t[1] for t in ours)
    t_med = statistics.median(t[1] for t in theirs)
    print("\nfer-cl (%s): %s" % (device, cmd))
    print("%-10s %12s %12s" % ("", "img/s (min)", "img/s (med)"))
    print("%-10s %12.1f %12.1f" % ("fer-cl", images / o_min, images / o_med))
    print("%-10s %12.1f %12.1f" % ("PyTorch", images / t_min, images / t_med))
    print("%-10s %12.2f %12.2f" % ("ratio", t_min / o_min, t_med / o_med))
    if args.json:
        summary = {"arch": args.arch, "stem": args.stem, "channels": args.channels,
                   "input": args.input, "width": args.width, "batch": args.batch, "ssl": args.ssl,
                   "images_per_step": images, "fercl_device": device, "fercl_command": cmd,
                   "torch_device": args.torch_device,
                   "fercl_img_s_min": images / o_min, "fercl_img_s_median": images / o_med,
                   "torch_img_s_min": images / t_min, "torch_img_s_median": images / t_med,
                   "ratio_min": t_min / o_min, "ratio_median": t_med / o_med}
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
