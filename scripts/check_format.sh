#!/bin/sh
# Fails when a C++ source does not follow .clang-format.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp')
if [ -z "$files" ]; then exit 0; fi
if ! clang-format --dry-run --Werror $files; then
  echo "format: FAIL: run 'clang-format -i' on the files above" >&2
  exit 1
fi
echo "format: ok"
