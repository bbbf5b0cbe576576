#!/bin/sh
# README command (b): install dependencies, build, and run every test.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
./scripts/check_boundaries.sh
./scripts/check_format.sh
cd build
ctest --output-on-failure -j2 --timeout 300
