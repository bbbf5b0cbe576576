#!/bin/sh
# The pure modules must not include CAF, SOCI or cpprest (DESIGN.md: edges
# translate). Prints the offending lines and fails when any is found.
set -eu
cd "$(dirname "$0")/.."
PURE="common dsl actors/workflow actors/task"
dirs=""
for d in $PURE; do [ -d "$d" ] && dirs="$dirs $d"; done
if [ -z "$dirs" ]; then echo "boundaries: nothing to check"; exit 0; fi
# The actor shells (*_actor.*) beside the pure machines are the edge: they may.
if grep -rnE --exclude='*_actor.*' '#include *[<"](caf|soci|cpprest|pplx)/' $dirs; then
  echo "boundaries: FAIL: the pure modules above include CAF, SOCI or cpprest headers" >&2
  exit 1
fi
echo "boundaries: ok ($dirs )"
