#!/bin/sh
# README command (b): install dependencies, build, and run every test.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
./scripts/check_boundaries.sh
./scripts/check_format.sh
# The store tests also run on PostgreSQL: a private server for this run,
# stopped however the run ends.
eval "$(./scripts/pg_test_server.sh start)"
export MISTRAL_TEST_PG_URL
ROOT=$(pwd)
trap '"$ROOT/scripts/pg_test_server.sh" stop' EXIT
trap 'exit 130' INT TERM
cd build
ctest --output-on-failure -j2 --timeout 300
