#!/usr/bin/env bash
# One prepared command for a borrowed GPU machine (see tools/gpu/README.md):
# device list, the opencl test suites, bench, bench --train beside PyTorch
# CUDA, tune --quick, then the README's FER2013 recipe (d) for as many steps as
# fit. Every stage runs under `timeout`; the whole call stays under the budget
# (default 540 s). Results go to $OUT (the device runner's folder) or
# gpu-results/<time>/: one .txt per stage and summary.json.
#
#   tools/gpu/run.sh                 # on the GPU machine
#   tools/gpu/run.sh --dry-run       # here, on PoCL: tiny budgets, PyTorch on the CPU
#   tools/gpu/run.sh --budget 300    # seconds for the whole call
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

dry=0
budget=540
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --budget) budget=$2; shift ;;
    *) echo "usage: tools/gpu/run.sh [--dry-run] [--budget SECONDS]" >&2; exit 2 ;;
  esac
  shift
done
device=${FERCL_GPU_DEVICE:-0}
out=${OUT:-$root/gpu-results/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
t_start=$(date +%s)
left() { echo $((budget - ($(date +%s) - t_start))); }
summary="$out/summary.tsv"
: >"$summary"

# stage NAME CAP_SECONDS COMMAND...: runs COMMAND with at most min(CAP, time left - 10 s),
# output in $out/NAME.txt; one line per stage in summary.tsv and on stdout.
stage() {
  local name=$1 cap=$2; shift 2
  local room=$(($(left) - 10))
  [ "$cap" -gt "$room" ] && cap=$room
  if [ "$cap" -lt 5 ]; then
    echo "$name	skipped	0	no time left" | tee -a "$summary"
    return 0
  fi
  local t0=$(date +%s) rc
  timeout -k 10 -s INT "$cap" "$@" >"$out/$name.txt" 2>&1
  rc=$?
  local what=ok
  [ "$rc" = 124 ] && what="timed out after $cap s"
  [ "$rc" != 0 ] && [ "$rc" != 124 ] && what="exit $rc"
  echo "$name	$what	$(($(date +%s) - t0))	$(tail -n 1 "$out/$name.txt" | cut -c1-160)" | tee -a "$summary"
  return 0
}
note() { echo "$1	note	0	$2" | tee -a "$summary"; }

echo "fer-cl GPU run: $(date -u +%FT%TZ), budget $budget s, results in $out$([ $dry = 1 ] && echo ', DRY RUN')"
{ uname -a; command -v nvidia-smi >/dev/null && nvidia-smi; } >"$out/machine.txt" 2>&1

# ---- build (or use a carried build/) ----
build=build
if [ -x "$build/fer-cl" ] && ! ldd "$build/fer-cl" | grep -q 'not found'; then
  if command -v meson >/dev/null && command -v ninja >/dev/null; then
    stage build 120 meson compile -C "$build"
  else
    note build "no meson/ninja here: using the carried $build/fer-cl as is"
  fi
elif command -v meson >/dev/null && command -v ninja >/dev/null && command -v cc >/dev/null; then
  stage build 150 bash -c "meson setup $build --buildtype=release >/dev/null && meson compile -C $build"
else
  echo "build	FAILED	0	no meson/ninja/cc on this machine and no usable carried build/: build here on a matching distribution and carry build/ (see tools/gpu/README.md)" | tee -a "$summary"
  exit 1
fi
if [ ! -x "$build/fer-cl" ]; then echo "no $build/fer-cl; see $out/build.txt" >&2; exit 1; fi
fercl=("$root/$build/fer-cl" --device "$device")

stage devices 20 "$root/$build/fer-cl" devices

# ---- tests: the opencl suites ----
export FERCL_TEST_DEVICE=$device
if command -v meson >/dev/null; then
  stage tests $([ $dry = 1 ] && echo 60 || echo 120) meson test -C "$build" --suite opencl --no-rebuild --print-errorlogs --num-processes 4
else
  stage tests 120 bash -c "$build/tests/device/test_device && $build/tests/ops/test_ops && FERCL_KERNELS=gpu $build/tests/ops/test_ops && $build/tests/net/test_net"
fi

# ---- bench ----
if [ $dry = 1 ]; then
  stage bench 40 "${fercl[@]}" bench --quick --only peak,latency --json
  stage bench-train-ssl 60 "${fercl[@]}" bench --train --arch resnet18 --width 0.5 --channels 1 --input 48 --batch 8 --steps 1 --json
else
  stage bench 60 "${fercl[@]}" bench --quick --json
  stage bench-train-ssl 40 "${fercl[@]}" bench --train --json
fi

# ---- supervised step: fer-cl vs PyTorch (CUDA on the GPU machine) ----
# The first python3 that has PyTorch (a pyenv or venv python3 may come first on PATH).
py=""
for cand in python3 /usr/bin/python3 /usr/local/bin/python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import torch, torchvision' 2>/dev/null; then
    py=$(command -v "$cand"); break
  fi
done
if [ -z "$py" ]; then
  note compare "skipped: no python3 with torch and torchvision here"
elif [ $dry = 1 ]; then
  note compare "dry run: PyTorch on the CPU at 1x48x48 batch 8 (CUDA comparisons need the GPU machine)"
  stage compare-1x48-b8 90 "$py" tools/compare_torch_train.py --device "$device" --torch-device cpu \
    --channels 1 --input 48 --batch 8 --steps 1 --rounds 1 --json "$out/compare-1x48-b8.json"
elif ! "$py" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  note compare "skipped: this PyTorch sees no CUDA device"
else
  for shape in "3 112 64" "3 112 256" "1 48 64" "1 48 256"; do
    set -- $shape
    stage "compare-${1}x${2}-b${3}" 45 "$py" tools/compare_torch_train.py --device "$device" \
      --torch-device cuda --channels "$1" --input "$2" --batch "$3" --steps 5 --rounds 2 \
      --json "$out/compare-${1}x${2}-b${3}.json"
  done
fi

# ---- tune --quick (its file goes to a private cache, so it travels back) ----
export FERCL_CACHE_DIR=$out/cache
stage tune $([ $dry = 1 ] && echo 30 || echo 90) "${fercl[@]}" tune --quick

# ---- FER2013 recipe (d) for the time that is left ----
data=""
if [ -f gpu-carry/fer2013.tar.gz ]; then
  mkdir -p gpu-data
  [ -d gpu-data/fer2013/train ] || tar -C gpu-data -xzf gpu-carry/fer2013.tar.gz
  data=gpu-data/fer2013
elif [ -d ../shared/data/fer2013/train ]; then
  data=../shared/data/fer2013
fi
if [ -z "$data" ]; then
  note train "skipped: no gpu-carry/fer2013.tar.gz (run tools/gpu/pack-data.sh and carry gpu-carry)"
else
  steps=8000 eval_every=500
  [ $dry = 1 ] && steps=6 eval_every=3
  # README "FER2013, 250 labels per class", run (d).
  stage train-fer2013 $(($(left) - 15)) "${fercl[@]}" train --data "$data" --labels-per-class 250 \
    --arch resnet18 --width 0.5 --stem imagenet --input 48 --channels 1 --lae-kernel 3 --batch 32 \
    --mu 3 --lr 0.03 --steps "$steps" --eval-every "$eval_every" --save-every "$eval_every" \
    --seed 1 --tau-min 0.8 --out "$out/fer2013-d" --overwrite
  grep -E '^eval @ step|^done:' "$out/train-fer2013.txt" | tail -n 3 | sed 's/^/  /'
  grep -oE 'step [0-9]+/[0-9]+ .* [0-9.]+ img/s' "$out/train-fer2013.txt" | tail -n 1 | sed 's/^/  last progress: /'
fi

"${py:-python3}" - "$out" <<'PY' || echo "summary.json not written (no python3)"
import json, sys, os
out = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "summary.tsv")) if l.strip()]
s = {"stages": [{"stage": r[0], "status": r[1], "seconds": int(r[2]), "last_line": r[3] if len(r) > 3 else ""} for r in rows]}
for f in sorted(os.listdir(out)):
    if f.startswith("compare-") and f.endswith(".json"):
        s.setdefault("compare", []).append(json.load(open(os.path.join(out, f))))
open(os.path.join(out, "summary.json"), "w").write(json.dumps(s, indent=1))
PY
echo "done in $(($(date +%s) - t_start)) s; results: $out (summary.tsv, summary.json, one .txt per stage)"
