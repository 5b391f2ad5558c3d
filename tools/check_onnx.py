#!/usr/bin/env python3
"""ONNX export check: `fer-cl export` gives a valid ONNX model whose logits in ONNX Runtime
equal fer-cl's own.

For each network config: trains 2 steps on synthetic faces (so BN statistics are real),
exports the checkpoint, runs onnx.checker (full_check: shape inference too), checks the
interface (input 'input' float32 [N, C, S, S] with a dynamic N, output 'logits' [N, classes],
metadata 'classes' = the checkpoint's class names), then compares ONNX Runtime's logits on
64 images (one batch of 64, and batch 1 for a few) with `fer-cl predict --json --logits`.
Then the same with the checkpoint's BN statistics and affine parameters randomised, so that
a wrong BN folding cannot hide behind statistics near mean 0, variance 1.

Needs onnx, onnxruntime and numpy (pip; tools/test.sh installs them in .venv/). Writes the
test images as PNG with the standard library. Without onnx/onnxruntime it says so and exits
77 (meson's "skipped"), or 1 when --require is given (CI).

usage: check_onnx.py --fercl build/fer-cl [--device N] [--all] [--only I,J] [--keep DIR] [--require]
Prints one line per config with the max |logit difference|; exits 1 if any is above 1e-4.

A trained model on real images, the way an application would use it:
  check_onnx.py --fercl build/fer-cl --model runs/X/best.safetensors --images DIR [DIR...]
exports the model, then for every PNG/JPEG below the folders compares ONNX Runtime, fed by the
README's Deploy example (its load(): Pillow decoding, fer-cl's resize in numpy), with
`fer-cl predict` (fer-cl's own decoding and resize): identical top-1 on >= 99.5 % of the images
and probabilities within 1e-3, else exit 1.
"""
import argparse
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

TOLERANCE = 1e-4
SKIP = 77

# The default set covers every value of each axis the issue names (stem, channels, LAE
# kernel, width) in 4 runs, plus a resnet10 without attention and with head dropout;
# --all runs the full 16-config product of the four axes.
DEFAULT_CONFIGS = [
    dict(stem='small', channels=1, lae_kernel=3, width=0.5),
    dict(stem='small', channels=3, lae_kernel=7, width=1.0),
    dict(stem='imagenet', channels=1, lae_kernel=7, width=0.5),
    dict(stem='imagenet', channels=3, lae_kernel=3, width=1.0, extra='--dropout 0.3'),
    dict(stem='small', channels=1, lae_kernel=0, width=0.25, extra='--arch resnet10 --no-rfd'),
]


def config_name(c):
    lae = f'LAE k={c["lae_kernel"]}' if c['lae_kernel'] else 'no LAE'
    extra = f', {c["extra"]}' if c.get('extra') else ''
    return f'{c["stem"]:8s} stem, {c["channels"]} ch, {lae}, width {c["width"]:g}{extra}'


def train_args(c, size):
    args = ['--steps', '2', '--eval-every', '0', '--synth-train', '140', '--synth-val', '14', '--batch', '8',
            '--mu', '2', '--stem', c['stem'], '--channels', str(c['channels']), '--width', str(c['width']),
            '--input', str(size)]
    args += ['--no-lae'] if c['lae_kernel'] == 0 else ['--lae-kernel', str(c['lae_kernel'])]
    return args + c.get('extra', '').split()


# ---- safetensors with numpy (to randomise BN statistics) ----

def read_safetensors(path):
    import numpy as np
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    dtypes = {'F32': np.float32, 'I64': np.int64}
    tensors = {}
    for name, info in header.items():
        b, e = info['data_offsets']
        tensors[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype=dtypes[info['dtype']]).reshape(info['shape']).copy()
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header = {'__metadata__': meta}
    blobs, offset = [], 0
    for name, t in tensors.items():
        raw = t.tobytes()
        header[name] = {'dtype': 'I64' if t.dtype.kind == 'i' else 'F32', 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def randomise_bn(src, dst, seed):
    """Every BN's running statistics and affine parameters drawn independently (mean, variance,
    gamma and beta all away from 0 and 1, so a folding that drops or swaps one of them shows),
    with gamma / sqrt(var + eps) kept in 0.7..1.0 so that activations, and the logits, stay in a
    trained network's range instead of growing through 20 layers. Everything else kept."""
    import numpy as np
    rng = np.random.default_rng(seed)
    tensors, meta = read_safetensors(src)
    eps = float(meta['fercl.bn_eps'])
    bn = {name.rsplit('.', 1)[0] for name in tensors if name.endswith('.running_var')}
    for module in bn:
        c = tensors[module + '.running_var'].shape[0]
        var = rng.uniform(0.2, 3.0, c)
        tensors[module + '.running_mean'] = rng.uniform(-0.3, 0.3, c).astype(np.float32)
        tensors[module + '.running_var'] = var.astype(np.float32)
        tensors[module + '.weight'] = (np.sqrt(var + eps) * rng.uniform(0.7, 1.0, c)).astype(np.float32)
        tensors[module + '.bias'] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
    write_safetensors(dst, tensors, meta)


# ---- images ----

def write_png(path, pixels):
    """pixels: uint8 [C, H, W] with C 1 (gray) or 3 (RGB)."""
    c, h, w = pixels.shape
    rows = pixels.transpose(1, 2, 0).reshape(h, w * c)
    raw = b''.join(b'\x00' + rows[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff)

    ihdr = struct.pack('>IIBBBBB', w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def make_images(rng, count, channels, size):
    """Half uniform noise (64..191), half smooth shapes (gradients and discs) with noise."""
    import numpy as np
    images = rng.integers(64, 192, size=(count, channels, size, size), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(count // 2, count):
        for ch in range(channels):
            a, b, r = rng.uniform(-1, 1, 3)
            img = 128 + 100 * (a * xx + b * yy) + 80 * (((xx - 0.5) ** 2 + (yy - 0.5) ** 2) < (0.1 + 0.2 * abs(r)))
            img += rng.normal(0, 10, img.shape)
            images[i, ch] = np.clip(img, 0, 255).astype(np.uint8)
    return images


# ---- the check ----

def fercl_cmd(args, *rest):
    cmd = [args.fercl, '--quiet']
    if args.device is not None:
        cmd += ['--device', args.device]
    return cmd + list(rest)


def fercl_logits(args, model, paths):
    import numpy as np
    out = subprocess.run(fercl_cmd(args, 'predict', '--json', '--logits', '--top', '1', '--model', model, *paths),
                         check=True, capture_output=True, text=True).stdout
    return np.array([entry['logits'] for entry in json.loads(out)], dtype=np.float64)


def check_interface(model, meta):
    """The graph's signature and metadata as the README promises."""
    c, s, k = int(meta['fercl.in_channels']), int(meta['fercl.input_size']), int(meta['fercl.num_classes'])
    g = model.graph
    problems = []
    if model.opset_import[0].version != 17:
        problems.append(f'opset {model.opset_import[0].version}')
    if [i.name for i in g.input] != ['input'] or [o.name for o in g.output] != ['logits']:
        problems.append(f'inputs {[i.name for i in g.input]}, outputs {[o.name for o in g.output]}')
    else:
        def dims(v):
            return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        if g.input[0].type.tensor_type.elem_type != 1 or dims(g.input[0]) != ['N', c, s, s]:
            problems.append(f'input dims {dims(g.input[0])}')
        if dims(g.output[0]) != ['N', k]:
            problems.append(f'output dims {dims(g.output[0])}')
    props = {p.key: p.value for p in model.metadata_props}
    if json.loads(props.get('classes', 'null')) != json.loads(meta['fercl.classes']):
        problems.append(f'metadata classes {props.get("classes")}')
    if props.get('input_size') != str(s) or props.get('channels') != str(c) or not props.get('fercl_version'):
        problems.append(f'metadata {props}')
    ops = {n.op_type for n in g.node}
    for banned in ('BatchNormalization', 'Dropout'):
        if banned in ops:
            problems.append(f'{banned} node in the graph')
    return problems


def check_model(args, ckpt, onnx_path, images, paths):
    import numpy as np
    import onnx
    import onnxruntime as ort
    subprocess.run(fercl_cmd(args, 'export', '--model', ckpt, '--onnx', onnx_path), check=True)
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model, full_check=True)
    _, meta = read_safetensors(ckpt)
    problems = check_interface(model, meta)
    session = ort.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
    x = images.astype(np.float32)
    theirs = session.run(['logits'], {'input': x})[0].astype(np.float64)
    single = np.concatenate([session.run(['logits'], {'input': x[i:i + 1]})[0] for i in range(3)])
    if np.abs(single - theirs[:3]).max() > TOLERANCE:
        problems.append('batch 1 and batch 64 differ in ONNX Runtime')
    ours = fercl_logits(args, ckpt, paths)
    return float(np.abs(ours - theirs).max()), float(np.abs(ours).max()), problems, ours


def readme_example(readme):
    """The first ```python block of README.md's "## Deploy" section."""
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    section = text.split('\n## Deploy\n', 1)[1].split('\n## ', 1)[0]
    return section.split('```python\n', 1)[1].split('```', 1)[0]


def write_readme_example(work):
    script = os.path.join(work, 'predict_onnx.py')
    with open(script, 'w') as f:
        f.write(readme_example(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'README.md')))
    return script


def check_readme_example(work, onnx_path, image, logits, classes):
    """Runs the README's example on one image; its printed probabilities must be softmax(fer-cl's
    logits), most likely first. Returns the max difference, or a problem text."""
    import numpy as np
    script = write_readme_example(work)
    out = subprocess.run([sys.executable, script, onnx_path, image], capture_output=True, text=True)
    if out.returncode != 0:
        return f'README example failed: {out.stderr.strip()[-500:]}'
    printed = [line.split() for line in out.stdout.strip().split('\n')]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    expected = sorted(zip(classes, p), key=lambda t: -t[1])
    if [name for name, _ in printed] != [name for name, _ in expected]:
        return f'README example printed {printed}, expected the order {[n for n, _ in expected]}'
    return max(abs(float(prob) - q) for (_, prob), (_, q) in zip(printed, expected))


def softmax(z):
    import numpy as np
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def check_images(args):
    """--model with --images: agreement of ONNX Runtime (README preprocessing) and fer-cl predict."""
    import importlib.util
    import numpy as np
    import onnxruntime as ort
    work = args.keep or tempfile.mkdtemp(prefix='fercl-onnx-')
    os.makedirs(work, exist_ok=True)
    spec = importlib.util.spec_from_file_location('predict_onnx', write_readme_example(work))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    onnx_path = os.path.join(work, 'model.onnx')
    subprocess.run(fercl_cmd(args, 'export', '--model', args.model, '--onnx', onnx_path), check=True)
    session = ort.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
    meta = session.get_modelmeta().custom_metadata_map
    size, channels = int(meta['input_size']), int(meta['channels'])
    paths = sorted(os.path.join(d, f) for top in args.images for d, _, files in os.walk(top) for f in files
                   if f.lower().endswith(('.png', '.jpg', '.jpeg')))
    if not paths:
        raise SystemExit(f'no PNG or JPEG images below {args.images}')
    ours = np.concatenate([fercl_logits(args, args.model, paths[i:i + 400]) for i in range(0, len(paths), 400)])
    theirs = np.concatenate([session.run(['logits'], {'input': np.stack([example.load(p, size, channels)
                                                                         for p in paths[i:i + 256]])})[0]
                             for i in range(0, len(paths), 256)]).astype(np.float64)
    same = float((ours.argmax(1) == theirs.argmax(1)).mean())
    dprob = float(np.abs(softmax(ours) - softmax(theirs)).max())
    dlogit = float(np.abs(ours - theirs).max())
    ok = same >= 0.995 and dprob <= 1e-3
    classes = json.loads(meta['classes'])
    labels = [os.path.basename(os.path.dirname(p)) for p in paths]
    if all(label in classes for label in labels):  # class folders: accuracies, as fer-cl eval's
        truth = np.array([classes.index(label) for label in labels])
        print(f'accuracy on the labelled folders: ONNX Runtime {(theirs.argmax(1) == truth).mean():.4f}, '
              f'fer-cl predict {(ours.argmax(1) == truth).mean():.4f}')
    print(f'{len(paths)} images ({", ".join(args.images)}): identical top-1 {100 * same:.2f} %, '
          f'max |probability difference| {dprob:.3g}, max |logit difference| {dlogit:.3g} '
          f'(logits up to {np.abs(ours).max():.3g}): {"OK" if ok else "FAIL"} (>= 99.5 % and <= 1e-3)')
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--fercl', default='build/fer-cl')
    ap.add_argument('--device', default=None)
    ap.add_argument('--all', action='store_true', help='all 16 combinations of stem, channels, LAE k, width')
    ap.add_argument('--only', default=None, help='comma-separated indices of the configs to run (0-based)')
    ap.add_argument('--count', type=int, default=64, help='images per config')
    ap.add_argument('--keep', default=None, help='work in this folder and keep it')
    ap.add_argument('--model', default=None, help='with --images: a trained checkpoint to compare on real images')
    ap.add_argument('--images', nargs='+', default=None, help='folders of PNG/JPEG images (with --model)')
    ap.add_argument('--require', action='store_true', help='fail (exit 1), not skip, without onnx/onnxruntime')
    args = ap.parse_args()
    try:
        import numpy as np
        import onnx
        import onnxruntime
    except ImportError as e:
        print(f'check_onnx: SKIPPED: {e.name} is not installed for {sys.executable} '
              f'(tools/test.sh installs onnx, onnxruntime and numpy in .venv/; or pip install them)')
        return 1 if args.require else SKIP
    try:
        import PIL  # noqa: F401  (the README example's)
        has_pillow = True
    except ImportError:
        has_pillow = False
    print(f'onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, numpy {np.__version__}')
    if args.model or args.images:
        if not (args.model and args.images and has_pillow):
            raise SystemExit('--model and --images go together, and need pillow')
        return check_images(args)

    configs = DEFAULT_CONFIGS
    if args.all:
        configs = [dict(stem=s, channels=c, lae_kernel=k, width=w)
                   for s, c, k, w in itertools.product(['small', 'imagenet'], [1, 3], [3, 7], [0.5, 1.0])]
    if args.only:
        configs = [configs[int(i)] for i in args.only.split(',')]
    work = args.keep or tempfile.mkdtemp(prefix='fercl-onnx-')
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(1)
    worst, failed = 0.0, False
    for n, c in enumerate(configs):
        size = 64 if c['stem'] == 'imagenet' else 48
        folder = os.path.join(work, f'config{n}')
        os.makedirs(folder, exist_ok=True)
        run = os.path.join(folder, 'run')
        subprocess.run(fercl_cmd(args, 'train', '--out', run, '--overwrite', *train_args(c, size)), check=True,
                       stdout=subprocess.DEVNULL)
        images = make_images(rng, args.count, c['channels'], size)
        paths = []
        for i, img in enumerate(images):
            paths.append(os.path.join(folder, f'img{i:02d}.png'))
            write_png(paths[-1], img)
        trained = os.path.join(run, 'last.safetensors')
        randomised = os.path.join(folder, 'random_bn.safetensors')
        randomise_bn(trained, randomised, seed=n)
        for label, ckpt in (('trained', trained), ('random BN', randomised)):
            onnx_path = os.path.join(folder, label.replace(' ', '_') + '.onnx')
            diff, scale, problems, ours = check_model(args, ckpt, onnx_path, images, paths)
            if label == 'trained':
                ours_trained = ours
            ok = diff <= TOLERANCE and not problems
            failed |= not ok
            worst = max(worst, diff)
            print(f'{config_name(c)}, {size}x{size}, {label:9s}: max |logit difference| = {diff:.3g} '
                  f'(logits up to {scale:.3g}) {"ok" if ok else "FAIL"}{"; " + "; ".join(problems) if problems else ""}',
                  flush=True)
        if n < 2 and has_pillow:  # one gray and one RGB model
            _, meta = read_safetensors(trained)
            d = check_readme_example(folder, os.path.join(folder, 'trained.onnx'), paths[0], ours_trained[0],
                                     json.loads(meta['fercl.classes']))
            # The example prints 4 decimals.
            ok = not isinstance(d, str) and d <= 5e-5 + 1e-6
            failed |= not ok
            print(f'  README Deploy example on {os.path.basename(paths[0])}: '
                  f'{d if isinstance(d, str) else f"probabilities within {d:.2g} of fer-cl (printed to 4 decimals)"} '
                  f'{"ok" if ok else "FAIL"}', flush=True)
    if not has_pillow:
        print('README Deploy example: not run (pillow is not installed)')
    print(f'{"FAIL" if failed else "OK"}: worst max |logit difference| {worst:.3g} (tolerance {TOLERANCE:g}) '
          f'over {len(configs)} configs x 2 checkpoints x {args.count} images')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
