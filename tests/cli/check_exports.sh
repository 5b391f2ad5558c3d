#!/bin/sh
# libfercl exports the fc_ API and nothing else (include/fercl/api.h): a shared
# build of it defines, as dynamic symbols, exactly what include/fercl/ declares
# FC_API, and every prototype there is declared so.
# Usage: check_exports.sh SHARED_LIBRARY SOURCE_ROOT
lib=${1:?usage: check_exports.sh SHARED_LIBRARY SOURCE_ROOT}
root=${2:?usage: check_exports.sh SHARED_LIBRARY SOURCE_ROOT}
command -v nm >/dev/null || { echo "nm (binutils) is not installed: skipped"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

# Defined dynamic symbols, less the ones the linker adds to every shared object.
nm -D --defined-only "$lib" | awk '{print $NF}' |
  grep -v -x -e _init -e _fini -e _edata -e _end -e __bss_start | sort -u >"$tmp/exported" || exit 1
# Names declared FC_API (the name is on the FC_API line: before "(" or "[").
grep -h '^FC_API ' "$root"/include/fercl/*.h | sed -e 's/[([].*//' -e 's/.*[^A-Za-z0-9_]//' |
  sort -u >"$tmp/declared"
# Prototypes at the left margin without FC_API (static inline helpers are not exported).
grep -Hn '^[A-Za-z].*[^A-Za-z0-9_]fc_[A-Za-z0-9_]*(' "$root"/include/fercl/*.h |
  grep -v -e ':FC_API ' -e ':static ' -e ':typedef ' -e ':#' >"$tmp/bare"

if [ ! -s "$tmp/declared" ] || [ ! -s "$tmp/exported" ]; then
  echo "nothing declared FC_API in $root/include/fercl, or nothing exported by $lib"
  exit 1
fi
if grep -v '^fc_' "$tmp/exported" >"$tmp/foreign"; then
  echo "$lib exports names outside the fc_ API (give them hidden visibility, or FC_API and an fc_ name):"
  cat "$tmp/foreign"
  status=1
fi
if comm -23 "$tmp/exported" "$tmp/declared" | grep . >"$tmp/extra"; then
  echo "$lib exports fc_ names that include/fercl/ does not declare FC_API:"
  cat "$tmp/extra"
  status=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" | grep . >"$tmp/missing"; then
  echo "declared FC_API in include/fercl/ but not defined by $lib:"
  cat "$tmp/missing"
  status=1
fi
if [ -s "$tmp/bare" ]; then
  echo "public prototypes without FC_API (hidden from programs linking the shared library):"
  cat "$tmp/bare"
  status=1
fi
[ $status = 0 ] && echo "$(wc -l <"$tmp/exported") symbols exported, all declared FC_API in include/fercl/"
exit $status
