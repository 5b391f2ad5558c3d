#!/usr/bin/env bash
# Checks the C formatting against .clang-format (needs clang-format, which provides
# git-clang-format; Debian: apt-get install clang-format; CI has Debian 12's clang-format 14,
# and other versions may lay out a few lines differently).
#
#   tools/check-format.sh                 the lines of .c/.h files changed since the branch left
#                                         main (commits and uncommitted edits)
#   tools/check-format.sh --base REV      the lines changed since REV instead
#   tools/check-format.sh --all           every .c/.h file git tracks under src/, include/,
#                                         tests/ and tools/ (what tools/test.sh checks)
#   tools/check-format.sh FILE...         the whole of each file given
#   --fix                                 rewrite those lines or files instead of reporting
#
# Prints what clang-format would change (with --all: the first lines of each file's
# difference, and a count); exits 0 when there is nothing, 1 when there is, 2 on a usage
# error or without clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
all=0
base=
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fix) fix=1 ;;
    --all) all=1 ;;
    --base)
      [ $# -ge 2 ] || { echo "check-format: --base needs a revision" >&2; exit 2; }
      base=$2
      shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-format: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed" >&2; exit 2; }

if [ $all = 1 ]; then
  [ -z "$base" ] && [ ${#files[@]} = 0 ] || { echo "check-format: --all takes no --base or files" >&2; exit 2; }
  mapfile -t files < <(git ls-files -- 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' \
                                       'tools/*.c' 'tools/*.h')
  [ ${#files[@]} -gt 0 ] || { echo "check-format: no tracked .c/.h files (not a git checkout?)" >&2; exit 2; }
  if [ $fix = 1 ]; then
    clang-format -i --style=file "${files[@]}"
    exit 0
  fi
  bad=0
  for f in "${files[@]}"; do
    d=$(clang-format --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -) && continue
    bad=$((bad + 1))
    printf '%s\n' "$d" | head -n 40
    n=$(printf '%s\n' "$d" | wc -l)
    [ "$n" -le 40 ] || echo "... ($((n - 40)) more lines of difference in $f)"
  done
  if [ $bad -gt 0 ]; then
    echo "check-format: $bad of ${#files[@]} files differ from .clang-format; tools/check-format.sh --all --fix rewrites them"
    exit 1
  fi
  echo "check-format: ${#files[@]} files as .clang-format lays them out"
  exit 0
fi

if [ ${#files[@]} -gt 0 ]; then
  [ -z "$base" ] || { echo "check-format: give --base or files, not both" >&2; exit 2; }
  for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "check-format: no file $f" >&2; exit 2; }
  done
  if [ $fix = 1 ]; then
    clang-format -i --style=file "${files[@]}"
    exit 0
  fi
  status=0
  for f in "${files[@]}"; do
    if ! clang-format --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -; then
      status=1
    fi
  done
  exit $status
fi

if [ -z "$base" ]; then
  base=$(git merge-base HEAD main 2>/dev/null) ||
    { echo "check-format: no branch main here; give --base REV" >&2; exit 2; }
fi
git rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
  { echo "check-format: $base is not a revision" >&2; exit 2; }

if [ $fix = 1 ]; then
  git clang-format --force --style file --extensions c,h "$base" -- || true
  exit 0
fi
out=$(git clang-format --style file --extensions c,h --diff "$base" --)
case "$out" in
  ""|"no modified files to format"|"clang-format did not modify any files") exit 0 ;;
esac
printf '%s\n' "$out"
exit 1
