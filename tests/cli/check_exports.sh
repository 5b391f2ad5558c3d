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

# Defined dynamic symbols, less the ones the linker adds to every shared object and the
# ODR indicators AddressSanitizer adds beside exported data (__odr_asan.NAME).
nm -D --defined-only "$lib" | awk '{print $NF}' |
  grep -v -x -e _init -e _fini -e _edata -e _end -e __bss_start -e '__odr_asan\..*' |
  sort -u >"$tmp/exported" || exit 1
# The declarations of include/fercl/*.h: statements that start at the left margin (not
# typedefs, static inline helpers or preprocessor lines), joined up to their ";" or "{".
# Those starting FC_API give their name (before the first "(" or "["); any other that
# declares an fc_ function is reported.
awk '
  function done() {
    if (api) {
      name = stmt; sub(/[([].*/, "", name); sub(/.*[^A-Za-z0-9_]/, "", name); print "D " name
    } else if (stmt ~ /[^A-Za-z0-9_]fc_[A-Za-z0-9_]*[ \t]*\(/) {
      print "B " where ": " stmt
    }
    stmt = ""
  }
  stmt == "" && /^[A-Za-z]/ && !/^(typedef|static|extern "C")/ {
    stmt = $0; api = /^FC_API /; where = FILENAME ":" FNR
    if (/[;{]/) done()
    next
  }
  stmt != "" { stmt = stmt " " $0; if (/[;{]/) done() }
' "$root"/include/fercl/*.h >"$tmp/decls" || exit 1
sed -n 's/^D //p' "$tmp/decls" | sort -u >"$tmp/declared"
sed -n 's/^B //p' "$tmp/decls" >"$tmp/bare"

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
