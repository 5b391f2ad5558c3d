#!/bin/sh
# The command-line program is a client of the public API: every header a file
# of src/cli/ includes is its own (cli/...) or public (fercl/...), never another
# folder's internal one. Usage: check_includes.sh SOURCE_ROOT
root=${1:?usage: check_includes.sh SOURCE_ROOT}
bad=$(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root"/src/cli/*.c "$root"/src/cli/*.h |
  grep -v '#[[:space:]]*include[[:space:]]*"\(cli\|fercl\)/')
if [ -n "$bad" ]; then
  echo "src/cli/ includes internal headers of other folders (make what it needs public in include/fercl/):"
  echo "$bad"
  exit 1
fi
echo "src/cli/: only cli/ and fercl/ headers"
