#!/usr/bin/env bash
# Sets up and runs the main job: the desk, seeded with the demo data set and
# serving on 127.0.0.1:8710, and the engineer app paired with the demo's
# first engineer. The desk prints API tokens for its people and pairing codes
# for the engineers; the app keeps its data in ./outpost-app-data.
# Without a display (a server, CI), the app runs on a virtual one (Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
source scripts/setup-app.sh
cargo build --locked -p outpost-desk -p outpost-cli -p outpost-app
desk=./target/debug/outpost-desk
database="sqlite:outpost-desk.db"
"$desk" --database-url "$database" demo --skip-if-seeded
"$desk" --database-url "$database" serve --listen 127.0.0.1:8710 &
desk_pid=$!
trap 'kill $desk_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/8710) 2>/dev/null && break
  sleep 0.2
done
echo "Desk on http://127.0.0.1:8710 (health: /healthz, metrics: /metrics)."

export OUTPOST_DATA_DIR="$PWD/outpost-app-data"
if ! ./target/debug/outpost status --json | grep -q '"paired": {'; then
  code=$("$desk" --database-url "$database" pairing-code --first-engineer --quiet)
  ./target/debug/outpost pair http://127.0.0.1:8710 "$code" --name "Outpost demo app"
fi
./target/debug/outpost sync || echo "first sync failed; the app retries by itself"
echo "Starting the app (close its window or press Ctrl-C to stop both)."
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  ./target/debug/outpost-app
else
  echo "No display: running the app on a virtual one (xvfb-run)."
  xvfb-run -a -s "-screen 0 1280x800x24" ./target/debug/outpost-app
fi
