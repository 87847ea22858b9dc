#!/usr/bin/env bash
# Install everything Livesite needs on a fresh Debian or Ubuntu machine:
# system packages (as root; named clearly otherwise), the virtual environment,
# Python requirements and npm packages. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  python3-venv python3-dev build-essential pkg-config libmariadb-dev  # mysqlclient
  nodejs npm                                                          # hls.js and friends
  ffmpeg                                                              # RTMP test publisher, baseline
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  chromium chromium-driver                                            # browser tests
  nginx-light                                                         # the shipped HLS edge, tested
  coturn                                                              # TURN relay for WebRTC, tested
  libnginx-mod-stream                                                 # the shipped RTMP balancer, tested
)

missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# nodejs/npm may come from elsewhere (NodeSource, nvm): accept any working npm.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for package in "${missing[@]}"; do [[ $package == nodejs || $package == npm ]] || filtered+=("$package"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: these system packages are missing; install them as root and run again:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
wanted=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$wanted" > "$stamp"
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
