#!/bin/sh
# Meson test 'tools-check-onnx': runs tools/check_onnx.py (fer-cl export against ONNX Runtime)
# with the first Python that has onnx, onnxruntime and numpy: $FERCL_ONNX_PYTHON, the
# project's .venv/ (tools/test.sh creates it and pip-installs them), python3 on PATH,
# /usr/bin/python3. With none, or without an OpenCL device, it says why and exits 77
# (skipped); FERCL_REQUIRE_ONNX=1 (set by .ci/run) turns the missing packages into a failure.
# usage: check_onnx.sh FERCL_BIN SOURCE_ROOT
fercl=$1
root=$2
if ! "$fercl" --quiet devices >/dev/null 2>&1; then
  echo "check_onnx: SKIPPED: no OpenCL device ('$fercl devices' fails)"
  exit 77
fi
tried=""
for py in "${FERCL_ONNX_PYTHON:-}" "$root/.venv/bin/python" python3 /usr/bin/python3; do
  [ -n "$py" ] || continue
  command -v "$py" >/dev/null 2>&1 || continue
  tried="$tried $py"
  if "$py" -c 'import onnx, onnxruntime, numpy' >/dev/null 2>&1; then
    echo "check_onnx: using $py"
    if [ -n "${FERCL_TEST_DEVICE:-}" ]; then
      exec "$py" "$root/tools/check_onnx.py" --fercl "$fercl" --device "$FERCL_TEST_DEVICE"
    fi
    exec "$py" "$root/tools/check_onnx.py" --fercl "$fercl"
  fi
done
echo "check_onnx: SKIPPED: no Python with onnx, onnxruntime and numpy (tried:$tried);" \
     "tools/test.sh installs them in $root/.venv, or set FERCL_ONNX_PYTHON"
if [ "${FERCL_REQUIRE_ONNX:-0}" = 1 ]; then
  echo "check_onnx: FERCL_REQUIRE_ONNX=1: failing instead of skipping"
  exit 1
fi
exit 77
