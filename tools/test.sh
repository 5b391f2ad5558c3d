#!/usr/bin/env bash
# Runs the whole fer-cl test suite: configures build/ if needed, builds, runs
# every check suite through meson, and prints each suite's check summary.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FERCL_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
fi
meson compile -C "$build"

status=0
meson test -C "$build" --print-errorlogs --num-processes "${FERCL_TEST_JOBS:-2}" || status=$?

echo
echo "== check summaries ($build) =="
# Each check program prints "NN%: Checks: N, Failures: F, Errors: E"; meson keeps them in its log.
awk '/^==================================== [0-9]+\/[0-9]+ =+$/ {getline; name=$0}
     /^[0-9]+%: Checks: / {print "  " name ": " $0}' "$build/meson-logs/testlog.txt" | sed 's/test: *//'
exit $status
