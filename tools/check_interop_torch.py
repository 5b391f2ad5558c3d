#!/usr/bin/env python3
"""Interop proof: the same network in PyTorch and in fer-cl gives the same logits.

  1. fer-cl -> PyTorch: trains a few steps with fer-cl (so BN statistics are real),
     loads the checkpoint into a PyTorch module built from the checkpoint's metadata
     (torchvision resnet layout, plus the LAE modules), runs the same images and
     compares the logits with `fer-cl predict --json --logits`.
  2. PyTorch -> fer-cl: initialises the PyTorch module randomly (random BN running
     statistics too), writes it as a torchvision-named safetensors file with fer-cl's
     metadata, and compares fer-cl's logits on the same images.

Needs Debian's python3-torch, python3-torchvision and python3-pil; reads and writes
safetensors with json + struct (the `safetensors` package is not needed).

usage: check_interop_torch.py --fercl build/fer-cl [--device 0] [--keep DIR]
Prints the max absolute logit difference of each direction; exits 1 if either is
above 1e-4.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image

TOLERANCE = 1e-4


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    base = 8 + n
    dtypes = {'F32': torch.float32, 'I64': torch.int64, 'F64': torch.float64}
    tensors = {}
    for name, info in header.items():
        b, e = info['data_offsets']
        t = torch.frombuffer(bytearray(data[base + b:base + e]), dtype=dtypes[info['dtype']])
        tensors[name] = t.reshape(info['shape']).clone()
    return tensors, meta


def write_safetensors(path, tensors, meta):
    names = {torch.float32: 'F32', torch.int64: 'I64'}
    header = {'__metadata__': meta}
    blobs, offset = [], 0
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes()
        header[name] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    os.replace(path + '.tmp', path)


class SpatialAttention(nn.Module):
    """LAE: F' = F * (1 + sigmoid(conv_k([mean_c F; max_c F])))."""

    def __init__(self, k):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, k, padding=k // 2, bias=True)

    def forward(self, x):
        m = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * (1 + torch.sigmoid(self.conv(m)))


class FerNet(nn.Module):
    """torchvision's ResNet with fer-cl's config: stem choice, width, LAE, head."""

    def __init__(self, meta):
        super().__init__()
        blocks = {'resnet10': [1, 1, 1, 1], 'resnet18': [2, 2, 2, 2], 'resnet34': [3, 4, 6, 3]}[meta['fercl.arch']]
        width = float(meta['fercl.width'])
        base = max(1, round(64 * width))
        net = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, blocks,
                                               num_classes=int(meta['fercl.num_classes']))
        # Rebuild the widths: torchvision hard-codes 64/128/256/512.
        net.inplanes = base
        cin = int(meta['fercl.in_channels'])
        if meta['fercl.stem'] == 'small':
            net.conv1 = nn.Conv2d(cin, base, 3, 1, 1, bias=False)
            net.maxpool = nn.Identity()
        else:
            net.conv1 = nn.Conv2d(cin, base, 7, 2, 3, bias=False)
        net.bn1 = nn.BatchNorm2d(base)
        net.layer1 = net._make_layer(torchvision.models.resnet.BasicBlock, base, blocks[0])
        net.layer2 = net._make_layer(torchvision.models.resnet.BasicBlock, base * 2, blocks[1], stride=2)
        net.layer3 = net._make_layer(torchvision.models.resnet.BasicBlock, base * 4, blocks[2], stride=2)
        net.layer4 = net._make_layer(torchvision.models.resnet.BasicBlock, base * 8, blocks[3], stride=2)
        net.fc = nn.Linear(base * 8, int(meta['fercl.num_classes']))
        self.net = net
        k = int(meta['fercl.lae_kernel'])
        self.lae3 = SpatialAttention(k) if meta['fercl.lae3'] == '1' else None
        self.lae4 = SpatialAttention(k) if meta['fercl.lae4'] == '1' else None

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer2(n.layer1(x))
        x = n.layer3(x)
        if self.lae3 is not None:
            x = self.lae3(x)
        x = n.layer4(x)
        if self.lae4 is not None:
            x = self.lae4(x)
        # RFD and dropout are identities at inference.
        return n.fc(torch.flatten(n.avgpool(x), 1))

    def state_dict_fercl(self):
        """torchvision names: the resnet's own at the top level, LAE under lae3/lae4."""
        sd = {k: v for k, v in self.net.state_dict().items()}
        for name in ('lae3', 'lae4'):
            mod = getattr(self, name)
            if mod is not None:
                for k, v in mod.state_dict().items():
                    sd[f'{name}.{k}'] = v
        return sd

    def load_fercl(self, tensors):
        own = self.state_dict_fercl()
        missing = sorted(set(own) - set(tensors))
        unexpected = sorted(k for k in set(tensors) - set(own) if not k.startswith('train.'))
        if missing or unexpected:
            raise SystemExit(f'checkpoint does not match the PyTorch module: missing {missing[:5]}, unexpected {unexpected[:5]}')
        self.net.load_state_dict({k[len(''):]: tensors[k] for k in own if not k.startswith('lae')})
        for name in ('lae3', 'lae4'):
            mod = getattr(self, name)
            if mod is not None:
                mod.load_state_dict({k.split('.', 1)[1]: tensors[k] for k in own if k.startswith(name + '.')})


def fercl_logits(fercl, device, model, images):
    cmd = [fercl, '--quiet', 'predict', '--json', '--logits', '--top', '1', '--model', model] + images
    if device is not None:
        cmd[1:1] = ['--device', device]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return np.array([entry['logits'] for entry in json.loads(out)], dtype=np.float64)


def torch_logits(net, meta, pixels):
    mean = torch.tensor(json.loads(meta['fercl.input_mean']), dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(json.loads(meta['fercl.input_std']), dtype=torch.float32).view(1, -1, 1, 1)
    x = (torch.from_numpy(pixels).float() / 255.0 - mean) / std
    net.eval()
    with torch.no_grad():
        return net(x).double().numpy()


def write_images(folder, pixels):
    paths = []
    for i, img in enumerate(pixels):
        path = os.path.join(folder, f'img{i}.png')
        if img.shape[0] == 1:
            Image.fromarray(img[0], mode='L').save(path)
        else:
            Image.fromarray(np.transpose(img, (1, 2, 0)), mode='RGB').save(path)
        paths.append(path)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--fercl', default='build/fer-cl')
    ap.add_argument('--device', default=None)
    ap.add_argument('--keep', default=None, help='work in this folder and keep it')
    ap.add_argument('--train-args', default='--steps 4 --width 0.5 --synth-train 280 --synth-val 70 --batch 8 --mu 2',
                    help='fer-cl train options for the checkpoint of direction 1')
    args = ap.parse_args()
    torch.manual_seed(0)
    work = args.keep or tempfile.mkdtemp(prefix='fercl-interop-')
    os.makedirs(work, exist_ok=True)
    run = os.path.join(work, 'run')
    cmd = [args.fercl, '--quiet', 'train', '--out', run, '--eval-every', '0'] + args.train_args.split()
    if args.device is not None:
        cmd[1:1] = ['--device', args.device]
    subprocess.run(cmd, check=True)
    ckpt = os.path.join(run, 'last.safetensors')
    tensors, meta = read_safetensors(ckpt)
    net = FerNet(meta)
    net.load_fercl(tensors)

    size, cin = int(meta['fercl.input_size']), int(meta['fercl.in_channels'])
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(6, cin, size, size), dtype=np.uint8)
    images = write_images(work, pixels)

    ours = fercl_logits(args.fercl, args.device, ckpt, images)
    theirs = torch_logits(net, meta, pixels)
    d1 = float(np.abs(ours - theirs).max())
    print(f'fer-cl checkpoint -> PyTorch: {meta["fercl.arch"]} width {meta["fercl.width"]}, '
          f'{cin}x{size}x{size}, stem {meta["fercl.stem"]}: max |logit difference| = {d1:.3g} '
          f'(logits up to {np.abs(theirs).max():.3g})')

    # Direction 2: random PyTorch weights and statistics into fer-cl.
    net2 = FerNet(meta)
    with torch.no_grad():
        for mod in net2.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.num_batches_tracked.fill_(17)
    sd = {k: v.detach().clone() for k, v in net2.state_dict_fercl().items()}
    path2 = os.path.join(work, 'from_torch.safetensors')
    write_safetensors(path2, sd, {k: v for k, v in meta.items() if not k.startswith('fercl.train.')})
    ours2 = fercl_logits(args.fercl, args.device, path2, images)
    theirs2 = torch_logits(net2, meta, pixels)
    d2 = float(np.abs(ours2 - theirs2).max())
    print(f'PyTorch weights -> fer-cl: max |logit difference| = {d2:.3g} (logits up to {np.abs(theirs2).max():.3g})')
    ok = d1 <= TOLERANCE and d2 <= TOLERANCE
    print('OK' if ok else f'FAIL: above {TOLERANCE}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
