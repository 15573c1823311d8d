#!/usr/bin/env bash
# Set up (with the test tools) and run every check the project has: lint, types,
# the example menus, their scenario tests and the pytest suite. Exits non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/setup.sh --dev

# SIPp (Debian's sip-tester) and baresip (a real softphone, driven over its ctrl_tcp module)
# place the real SIP calls of the tests marked sip; Kamailio plays the carrier's registrar
# and proxy in the trunk tests. Installed only when missing, like setup.sh's packages.
missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v baresip >/dev/null 2>&1 || missing+=(baresip)
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing+=(kamailio)
# openssl makes the TLS tests' certificates.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if command -v dpkg >/dev/null 2>&1 && [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: please install the Debian package(s) ${missing[*]} first" >&2
    exit 1
  fi
  echo "test.sh: installing Debian package(s): ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== ruff"
.venv/bin/ruff check attendant tests bench
echo "== mypy --strict"
.venv/bin/mypy attendant
echo "== example menus validate"
.venv/bin/attendant validate menus/
echo "== example scenarios"
.venv/bin/attendant test tests/scenarios
# The SIP tests spend most of their time waiting on real-time audio and timers, not on
# the CPU, so six pytest-xdist workers finish the suite in about a third of the serial
# time even on two cores (each worker takes its own port slice, see tests/sip/sip_harness.py).
# worksteal because one module (test_hostile.py) holds the longest tests.
# ATTENDANT_TEST_WORKERS=0 runs serially; arguments given to this script come last and win.
workers="${ATTENDANT_TEST_WORKERS:-6}"
echo "== pytest ($workers workers)"
if [ "$workers" = 0 ]; then
  .venv/bin/python -m pytest -q "$@"
else
  .venv/bin/python -m pytest -q -n "$workers" --dist worksteal "$@"
fi
