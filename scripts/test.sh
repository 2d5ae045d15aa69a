#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property and scenario tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
# rustfmt and clippy ship with rustup's default profile; add them if this toolchain lacks them.
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

echo "== format"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The desk's suite runs on SQLite and on PostgreSQL: start a throwaway server.
source scripts/test-postgres.sh

echo "== tests"
cargo test --workspace --locked
