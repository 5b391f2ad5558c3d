#!/usr/bin/env python3
"""Cross-checks fer-cl's backbone ops against PyTorch (CPU, float64).

Optional developer check, never part of `meson test`: the product and its
test suite do not depend on torch. For each case this script draws inputs
with torch, writes them as raw float32 files, runs build/tools/ops_dump (the
op on the OpenCL device and its C double reference), and compares both with
torch's forward and autograd backward in float64.

usage: tools/check_ops_torch.py [--build BUILD_DIR] [--keep]
Prints one line per output: max |device − torch| relative to max |torch|, and
the same for the C reference. Exits 1 if any device output is off by more
than 1e-4 (relative) or any reference output by more than 1e-9, or if an
argmax index differs.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

DEVICE_TOL = 1e-4
REF_TOL = 1e-9


def write(d, name, t):
    t.detach().to(torch.float32).contiguous().numpy().tofile(os.path.join(d, name + '.f32'))


def read(d, name, kind, shape):
    ext, dtype = {'dev': ('f32', np.float32), 'ref': ('f64', np.float64),
                  'dev_i': ('f32', np.int32), 'ref_i': ('i32', np.int32)}[kind]
    prefix = kind.split('_')[0]
    return np.fromfile(os.path.join(d, '%s_%s.%s' % (prefix, name, ext)), dtype=dtype).reshape(shape)


class Report:
    def __init__(self):
        self.failures = 0
        self.worst_dev = 0.0
        self.worst_ref = 0.0

    def compare(self, case, d, name, want):
        want = want.detach().double().numpy()
        scale = max(np.abs(want).max(), 1e-30)
        dev = read(d, name, 'dev', want.shape).astype(np.float64)
        ref = read(d, name, 'ref', want.shape)
        e_dev = np.abs(dev - want).max() / scale
        e_ref = np.abs(ref - want).max() / scale
        self.worst_dev = max(self.worst_dev, e_dev)
        self.worst_ref = max(self.worst_ref, e_ref)
        bad = e_dev > DEVICE_TOL or e_ref > REF_TOL or not np.isfinite(e_dev)
        self.failures += bad
        print('%-48s %-12s device %.2e  reference %.2e%s' %
              (case, name, e_dev, e_ref, '  FAIL' if bad else ''))

    def compare_index(self, case, d, name, want):
        want = want.numpy().astype(np.int64)
        dev = read(d, name, 'dev_i', want.shape)
        ref = read(d, name, 'ref_i', want.shape)
        n_dev = int((dev != want).sum())
        n_ref = int((ref != want).sum())
        bad = n_dev or n_ref
        self.failures += bool(bad)
        print('%-48s %-12s device %d differ  reference %d differ (of %d)%s' %
              (case, name, n_dev, n_ref, want.size, '  FAIL' if bad else ''))


def run_dump(exe, d, args):
    subprocess.run([exe, d] + [str(a) for a in args], check=True)


def check_conv(exe, rep, tmp, n, cin, h, w, cout, k, stride, pad, layout):
    d = tempfile.mkdtemp(dir=tmp)
    x = torch.randn(n, cin, h, w, dtype=torch.float64)
    wt = torch.randn(cout, cin, k, k, dtype=torch.float64) / (cin * k * k) ** 0.5
    b = torch.randn(cout, dtype=torch.float64)
    x, wt, b = [t.float().double().requires_grad_() for t in (x, wt, b)]  # float32-exact
    y = F.conv2d(x, wt, b, stride=stride, padding=pad)
    dy = torch.randn_like(y).float().double()
    y.backward(dy)
    for name, t in (('x', x), ('w', wt), ('b', b), ('dy', dy)):
        write(d, name, t)
    run_dump(exe, d, ['conv2d', layout, n, cin, h, w, cout, k, stride, pad])
    case = 'conv2d %s n%d %d->%d %dx%d k%d s%d p%d' % (layout, n, cin, cout, h, w, k, stride, pad)
    for name, t in (('y', y), ('dx', x.grad), ('dw', wt.grad), ('db', b.grad)):
        rep.compare(case, d, name, t)


def check_bn(exe, rep, tmp, n, c, h, w, epi, layout):
    d = tempfile.mkdtemp(dir=tmp)
    f = lambda t: t.float().double()
    x = f(torch.randn(n, c, h, w, dtype=torch.float64) * 2 + 0.5).requires_grad_()
    g = f(torch.rand(c, dtype=torch.float64) + 0.5).requires_grad_()
    be = f(torch.randn(c, dtype=torch.float64) * 0.3).requires_grad_()
    r = f(torch.randn(n, c, h, w, dtype=torch.float64)).requires_grad_()
    rm0 = f(torch.randn(c, dtype=torch.float64) * 0.1)
    rv0 = f(torch.rand(c, dtype=torch.float64) + 0.5)
    rm, rv = rm0.clone(), rv0.clone()
    y = F.batch_norm(x, rm, rv, g, be, training=True, momentum=0.1, eps=1e-5)
    if epi == 'add_relu':
        y = y + r
    if epi != 'plain':
        y = F.relu(y)
    dy = f(torch.randn_like(y))
    y.backward(dy)
    mean = x.detach().mean(dim=(0, 2, 3))
    invstd = 1.0 / torch.sqrt(x.detach().var(dim=(0, 2, 3), unbiased=False) + 1e-5)
    for name, t in (('x', x), ('gamma', g), ('beta', be), ('running_mean', rm0),
                    ('running_var', rv0), ('dy', dy), ('residual', r)):
        write(d, name, t)
    run_dump(exe, d, ['batchnorm', layout, n, c, h, w, epi])
    case = 'batchnorm %s %s n%d c%d %dx%d' % (epi, layout, n, c, h, w)
    outs = [('y', y), ('save_mean', mean), ('save_invstd', invstd), ('running_mean', rm),
            ('running_var', rv), ('dx', x.grad), ('dgamma', g.grad), ('dbeta', be.grad)]
    if epi == 'add_relu':
        outs.append(('d_residual', r.grad))
    for name, t in outs:
        rep.compare(case, d, name, t)


def check_maxpool(exe, rep, tmp, n, c, h, w, k, stride, pad, layout, ties):
    d = tempfile.mkdtemp(dir=tmp)
    x = torch.randn(n, c, h, w, dtype=torch.float64)
    if ties:  # a few levels only: PyTorch's first-maximum rule decides most windows
        x = torch.floor(x * 1.5)
    x = x.float().double().requires_grad_()
    y, idx = F.max_pool2d(x, k, stride, pad, return_indices=True)
    dy = torch.randn_like(y).float().double()
    y.backward(dy)
    write(d, 'x', x)
    write(d, 'dy', dy)
    run_dump(exe, d, ['maxpool2d', layout, n, c, h, w, k, stride, pad])
    case = 'maxpool2d %s n%d c%d %dx%d k%d s%d p%d%s' % (layout, n, c, h, w, k, stride, pad,
                                                         ' ties' if ties else '')
    rep.compare(case, d, 'y', y)
    rep.compare_index(case, d, 'argmax', idx)
    rep.compare(case, d, 'dx', x.grad)


def check_linear(exe, rep, tmp, n, fin, fout):
    d = tempfile.mkdtemp(dir=tmp)
    f = lambda t: t.float().double().requires_grad_()
    x = f(torch.randn(n, fin, dtype=torch.float64))
    w = f(torch.randn(fout, fin, dtype=torch.float64) / fin ** 0.5)
    b = f(torch.randn(fout, dtype=torch.float64))
    y = F.linear(x, w, b)
    dy = torch.randn_like(y).float().double()
    y.backward(dy)
    for name, t in (('x', x), ('w', w), ('b', b), ('dy', dy)):
        write(d, name, t)
    run_dump(exe, d, ['linear', n, fin, fout])
    case = 'linear n%d %d->%d' % (n, fin, fout)
    for name, t in (('y', y), ('dx', x.grad), ('dw', w.grad), ('db', b.grad)):
        rep.compare(case, d, name, t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(os.path.dirname(__file__), '..', 'build'),
                    help='meson build folder holding tools/ops_dump (default: ./build)')
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    args = ap.parse_args()
    exe = os.path.join(args.build, 'tools', 'ops_dump')
    if not os.access(exe, os.X_OK):
        sys.exit('check_ops_torch: %s not found; build fer-cl first (ninja -C %s)' % (exe, args.build))
    torch.manual_seed(1234)
    rep = Report()
    tmp = tempfile.mkdtemp(prefix='fercl-torch-')
    try:
        for layout in ('nchw', 'cnhw'):
            check_conv(exe, rep, tmp, 2, 3, 33, 33, 8, 7, 2, 3, layout)   # stem
            check_conv(exe, rep, tmp, 3, 5, 31, 31, 4, 3, 1, 1, layout)   # 3x3
            check_conv(exe, rep, tmp, 3, 6, 7, 7, 5, 3, 2, 1, layout)     # 3x3 s2
            check_conv(exe, rep, tmp, 3, 4, 7, 7, 6, 1, 2, 0, layout)     # shortcut
            for epi in ('plain', 'relu', 'add_relu'):
                check_bn(exe, rep, tmp, 3, 5, 7, 7, epi, layout)
            check_bn(exe, rep, tmp, 4, 3, 33, 31, 'relu', layout)
            for ties in (False, True):
                check_maxpool(exe, rep, tmp, 2, 3, 33, 33, 3, 2, 1, layout, ties)
                check_maxpool(exe, rep, tmp, 3, 2, 31, 31, 2, 2, 0, layout, ties)
        check_linear(exe, rep, tmp, 5, 512, 7)
        check_linear(exe, rep, tmp, 33, 31, 7)
    finally:
        if args.keep:
            print('files kept in', tmp)
        else:
            subprocess.run(['rm', '-rf', tmp])
    print('worst relative difference: device %.2e, C reference %.2e' % (rep.worst_dev, rep.worst_ref))
    if rep.failures:
        print('%d output(s) outside the tolerance' % rep.failures)
        sys.exit(1)


if __name__ == '__main__':
    main()
