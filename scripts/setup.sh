#!/usr/bin/env bash
# Set up attendant in .venv/ at the repository root, on a fresh Debian 12 machine or an
# existing one. Safe to run again: it only installs what is missing or changed.
#
#   bash scripts/setup.sh          the package and its runtime dependencies
#   bash scripts/setup.sh --dev    also the test and lint tools (pytest, hypothesis, mypy, ruff)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
extras=""
for arg in "$@"; do
  case "$arg" in
    --dev) extras="[dev]" ;;
    *) echo "setup.sh: unknown option $arg (use --dev)" >&2; exit 2 ;;
  esac
done

# Debian packages the project needs. Installed only when missing, so a machine that has
# them (or where we are not root) is left alone.
apt_needed=()
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || apt_needed+=("$1"); }
if command -v dpkg >/dev/null 2>&1; then
  # The stdlib venv module lives in a separate Debian package unless Python was built locally.
  python_for_venv="$(command -v python3.11 || command -v python3 || true)"
  if [ -z "$python_for_venv" ] || ! "$python_for_venv" -c "import ensurepip, venv" >/dev/null 2>&1; then
    need_pkg python3-venv
    need_pkg python3
  fi
  # espeak-ng renders prompts for `attendant serve` until the prompts package is installed.
  command -v espeak-ng >/dev/null 2>&1 || need_pkg espeak-ng
  # Prompts (attendant prompts build): espeak-ng above is the offline default engine;
  # ffmpeg decodes recorded prompts in MP3, OGG and M4A.
  need_pkg ffmpeg
  if [ ${#apt_needed[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup.sh: please install these Debian packages first: ${apt_needed[*]}" >&2
      exit 1
    fi
    echo "setup.sh: installing Debian packages: ${apt_needed[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_needed[@]}"
  fi
fi

python="$(command -v python3.11 || command -v python3)"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup.sh: attendant needs Python 3.11 or newer; $python is $("$python" --version)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup.sh: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
# Reinstall only when the project's metadata changed since the last successful setup.
stamp=".venv/.attendant-setup${extras//[\[\]]/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --editable ".${extras}"
  touch "$stamp"
fi
# pjsua2 (the SIP media library behind `attendant serve`): our own build with 1024-call
# limits. The script caches the wheel, so this is a ~2 s reinstall after the first build.
bash scripts/build-pjsua2.sh --venv .venv
echo "setup.sh: ready: $(.venv/bin/attendant --version)"
