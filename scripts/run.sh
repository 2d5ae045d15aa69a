#!/usr/bin/env bash
# Sets up and runs the main job: the desk, seeded with the demo data set,
# serving on 127.0.0.1:8710. It prints API tokens for the desk's people and
# pairing codes for the engineers. (The engineer app joins in a later issue.)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
cargo build --locked -p outpost-desk
desk=./target/debug/outpost-desk
"$desk" --database-url "sqlite:outpost-desk.db" demo --skip-if-seeded
echo "Serving on http://127.0.0.1:8710 (health: /healthz, metrics: /metrics); Ctrl-C stops."
exec "$desk" --database-url "sqlite:outpost-desk.db" serve --listen 127.0.0.1:8710
