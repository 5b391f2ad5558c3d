#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz, one after the other, at low priority.
#
#   tools/fuzz/run.sh [SECONDS] [TARGET...]     (default 300 s each, every target)
#
# Configures build-fuzz/ with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (fatal) if needed, writes the seed corpus with
# make_corpus (tools/fuzz/seeds.c), and keeps each target's growing corpus in
# build-fuzz/fuzz-corpus/TARGET. Crashes land in build-fuzz/fuzz-artifacts/TARGET/;
# add each (minimised: fuzz_TARGET -minimize_crash=1 FILE) to
# tests/fuzz/regress/TARGET/ once fixed, so the fuzz-TARGET test replays it.
# Prints each run's executions and duration; logs in build-fuzz/fuzz-logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-300}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(image fer2013 rafdb affectnet safetensors ckpt_meta json config runlog split)
build=${FERCL_FUZZ_BUILD_DIR:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all
fi
ninja -C "$build" -j2 tools/fuzz/make_corpus "${targets[@]/#/tests/fuzz/fuzz_}"

mkdir -p "$build/fuzz-logs"
status=0
for t in "${targets[@]}"; do
  seeds="$build/fuzz-seeds"
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  "$build/tools/fuzz/make_corpus" "$seeds" "$t" >/dev/null
  log="$build/fuzz-logs/$t.log"
  start=$(date +%s)
  rc=0
  nice -n 19 "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$seeds/$t" >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%-12s %10s execs in %4ds, corpus %5d files, exit %d%s\n' "$t" "${execs:-?}" "$took" \
    "$(ls "$corpus" | wc -l)" "$rc" "$( [ $rc -ne 0 ] && echo "  <- see $log" )"
  [ $rc -eq 0 ] || status=1
done
exit $status
