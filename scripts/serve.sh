#!/bin/sh
# README command (a): install dependencies, build, and start the all-in-one
# server on 127.0.0.1:8989 with SQLite under ./data.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
mkdir -p data
exec build/bin/mistral-server --server all --config-file deploy/mistral.conf "$@"
