#!/usr/bin/env bash
# Installs the Debian packages Iris needs. `runtime`: what `iris up` uses (ffmpeg for live HLS).
# `test`: also the real parts the tests drive (GStreamer RTSP server, Chromium, nginx, PostgreSQL).
set -euo pipefail
profile=${1:-runtime}

runtime_pkgs=(ffmpeg)
test_pkgs=(ffmpeg gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav python3-gi
  chromium nginx postgresql openssl fonts-dejavu-core mosquitto mosquitto-clients)

case "$profile" in
  runtime) pkgs=("${runtime_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

missing=()
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Iris needs these Debian packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
