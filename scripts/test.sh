#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property, scenario
# and UI tests (front-end unit tests, and the real app driven under Xvfb).
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
source scripts/setup-app.sh
# The service report's tests read its PDFs back with poppler.
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "== installing poppler-utils"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils
fi
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "== installing tauri-driver"
  cargo install tauri-driver --locked --version '^2'
fi

echo "== format"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== ui unit tests"
(cd ui && npx --no-install svelte-check --tsconfig ./tsconfig.json --threshold error && npx --no-install vitest run)
# The desk's suite runs on SQLite and on PostgreSQL: start a throwaway server.
source scripts/test-postgres.sh

echo "== tests"
cargo test --workspace --locked
echo "== the store key in a real Secret Service (gnome-keyring in a throwaway D-Bus session)"
scripts/secret-service-test.sh
echo "== the desk's API against its OpenAPI document (Schemathesis), on SQLite and PostgreSQL"
scripts/schemathesis.sh
"$PG_BIN/psql" "$OUTPOST_TEST_POSTGRES_URL" -qc "CREATE DATABASE schemathesis"
scripts/schemathesis.sh "${OUTPOST_TEST_POSTGRES_URL%/postgres}/schemathesis"
echo "== benchmarks at small sizes, so they keep working (the README's figures come from full runs)"
npm ci --prefix bench/pouchdb --no-audit --no-fund --loglevel=error
# Every benchmark built in one go, with the workspace's features: one build
# per package would compile the report's typesetter again with other features.
cargo bench --profile dev --locked --workspace --no-run --message-format=json-render-diagnostics \
  | python3 scripts/bench_executables.py >target/benches.tsv
bench() {
  local name=$1 dir exe
  shift
  IFS=$'\t' read -r _ dir exe < <(grep -P "^$name\t" target/benches.tsv) || { echo "no benchmark $name was built" >&2; return 1; }
  echo "-- $name $*"
  (cd "$dir" && env "$@" "$exe" --bench)
}
bench first_sync TICKETS=100 POUCHDB=required
bench poor_link TICKETS=2 PHOTOS=1
bench sync_bench TICKETS=100
bench devices DEVICES=20
bench live DEVICES=20 NOTES=10 IDLE=50
bench store_bench TICKETS=50 EQUIPMENT=50
echo "== the UI's TypeScript bindings match the Rust types"
git diff --exit-code -- ui/src/lib/bindings || {
  echo "ui/src/lib/bindings changed when the tests regenerated them: commit them" >&2
  exit 1
}
echo "UI screenshots: target/ui-artifacts/"
