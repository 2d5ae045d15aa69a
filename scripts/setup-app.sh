#!/usr/bin/env bash
# Sourced by run.sh and test.sh: installs what the engineer app builds and
# runs with (WebKitGTK and friends from Debian, the UI's npm packages) and
# builds the UI, which the app embeds.

app_packages=(libwebkit2gtk-4.1-dev build-essential libssl-dev libayatana-appindicator3-dev librsvg2-dev
  libxdo-dev file pkg-config xvfb xauth webkit2gtk-driver nodejs npm
  # The store key's Secret Service client (keyring) links libdbus.
  libdbus-1-dev)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${app_packages[@]}"; do
  # nodejs and npm may come from elsewhere than Debian; a working command is enough.
  case "$package" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== ui: npm packages and build"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
