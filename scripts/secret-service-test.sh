#!/usr/bin/env bash
# The device store's key in a real Secret Service: gnome-keyring in a
# throwaway D-Bus session, its login collection made and unlocked with an
# empty password, then the CLI test that checks the key lands there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v gnome-keyring-daemon >/dev/null 2>&1 || ! command -v secret-tool >/dev/null 2>&1; then
  echo "== installing gnome-keyring and secret-tool"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnome-keyring libsecret-tools dbus
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
# A keyring of its own (in a throwaway data home): never the user's.
XDG_DATA_HOME="$home/share" dbus-run-session -- bash -c '
  set -euo pipefail
  eval "$(printf "\n" | gnome-keyring-daemon --unlock)"
  eval "$(printf "\n" | gnome-keyring-daemon --start)"
  printf probe | secret-tool store --label=probe outpost-probe 1
  cargo test --locked -p outpost-cli --test cli -- --ignored --exact the_store_key_goes_to_the_secret_service
' 2> >(grep -v "fd limit" >&2)
