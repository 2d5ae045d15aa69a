#!/usr/bin/env bash
# Sets up and runs the main job. At this stage that is the sync protocol's
# benchmark: 10,000 realistic tickets synced between an in-memory desk and a
# device, with the bytes and times of each kind of round printed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
exec cargo bench --locked -p outpost-sync --bench sync_bench
