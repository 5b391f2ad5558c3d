#!/usr/bin/env bash
# Packs the FER2013 folder into gpu-carry/fer2013.tar.gz (git-ignored, about
# 42 MB) so it can travel to a borrowed GPU machine as a carried path;
# tools/gpu/run.sh unpacks it there.
#   tools/gpu/pack-data.sh [FER2013_DIR]    # default ../shared/data/fer2013
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:-../shared/data/fer2013}
if [ ! -d "$src/train" ] || [ ! -d "$src/val" ]; then
  echo "pack-data.sh: $src is not a FER2013 folder (train/ and val/ expected); pass its path" >&2
  exit 1
fi
mkdir -p gpu-carry
tar -C "$(dirname "$src")" -czf gpu-carry/fer2013.tar.gz.tmp "$(basename "$src")"
mv gpu-carry/fer2013.tar.gz.tmp gpu-carry/fer2013.tar.gz
echo "gpu-carry/fer2013.tar.gz: $(du -m gpu-carry/fer2013.tar.gz | cut -f1) MiB (carry: [\"gpu-carry\"])"
