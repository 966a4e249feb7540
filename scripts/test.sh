#!/usr/bin/env bash
# Configures (if needed), builds and runs the whole test suite. Used by the README and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
ctest --test-dir build --output-on-failure -j2
