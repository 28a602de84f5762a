#!/usr/bin/env bash
# Installs the Debian packages SafeCam needs that are missing (idempotent; apt-get update at most once).
# Used by `make install`. Without root, it prints the command to run instead.
set -euo pipefail
# ffmpeg records and probes; GStreamer's RTSP server (with python3-gi) simulates cameras;
# openssh-server is the real SFTP storage server of the tests; poppler-utils (pdftotext) reads the PDFs
# back in tests, as a person copying their text would.
wanted=(gettext nodejs npm python3-venv ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
        gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad
        gstreamer1.0-x gstreamer1.0-rtsp openssh-server chromium fonts-dejavu-core poppler-utils)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# nodejs/npm may come from elsewhere (nvm, NodeSource): a working npm is enough.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
# python3-venv matters only when the interpreter cannot make a venv by itself.
if python3 -c "import ensurepip, venv" 2>/dev/null; then missing=("${missing[@]/python3-venv}"); fi
read -r -a missing <<< "${missing[*]:-}"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "SafeCam needs these Debian packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
