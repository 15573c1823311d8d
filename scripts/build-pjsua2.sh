#!/usr/bin/env bash
# Build (or reuse) attendant's own pjsua2 Python wheel and install it into a venv.
#
# Usage: scripts/build-pjsua2.sh [--venv DIR | DIR] [--force]
#
#   DIR / --venv DIR  venv to install into (default: <repo>/.venv; created with
#                     $PYTHON, default python3.11, if it does not exist)
#   --force           rebuild even if a cached wheel exists
#
# Environment:
#   PJPROJECT_TARBALL  pjproject 2.17 tarball to use instead of the vendored one
#   PJPROJECT_SHA256   expected SHA-256 of $PJPROJECT_TARBALL (checked if set)
#   ATTENDANT_CACHE    cache root (default ~/.cache/attendant)
#   PYTHON             interpreter used to create a missing venv (python3.11)
#   JOBS               parallel make jobs (default 2: the project's machines)
#
# Why our own build: the pjsua2 wheels on PyPI are third-party, older than
# 2.17 and built with the stock limits (PJSUA_MAX_CALLS=4, 64 ioqueue
# handles, ...), far too low for an auto-attendant. Our limits live in
# scripts/pjsua2/config_site.h.
#
# Why a cache: a cold build takes minutes. The wheel is keyed by the source
# tarball, config_site.h, the build flags below and the target Python ABI, so
# an unchanged second run only reinstalls the wheel.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned inputs. Bump BUILD_FLAGS_VERSION whenever the build recipe changes in
# a way the cache key would not otherwise notice (e.g. editing a step below).
# ---------------------------------------------------------------------------
PJ_VERSION=2.17
BUILD_FLAGS_VERSION=2
# Official release: GitHub's archive of tag 2.17. Its SHA-256 is pinned
# because a tag archive is otherwise unauthenticated. (The vendored tarball is
# the same tree re-compressed, hence a different checksum, checked from the
# .sha256 file next to it.)
PJ_URL="https://github.com/pjsip/pjproject/archive/refs/tags/${PJ_VERSION}.tar.gz"
PJ_URL_SHA256=065fe06c06788d97c35f563796d59f00ce52fe9558a52d7b490a042a966facce
# setuptools >= 70.1 provides bdist_wheel itself, so no separate 'wheel'
# package is needed; pinned so the build venv is the same on every machine.
SETUPTOOLS_PIN="setuptools==80.9.0"

# Configure flags. Sound and video are off (a server has no devices; the null
# audio device is still available). Every optional codec/video/library that
# configure would auto-detect from whatever happens to be installed is
# disabled explicitly, so the same inputs give the same wheel on any machine.
# TLS uses Debian's OpenSSL (libssl-dev) and SRTP the copy bundled in
# third_party/, so no libsrtp2-dev is needed. Opus is built in from Debian's
# libopus-dev (installed below as a build dependency, so it is always found):
# WebRTC gateways and softphones offer it, sometimes alone. G.722 is bundled.
CONFIGURE_ARGS=(
    --enable-epoll
    --disable-sound
    --disable-video
    --disable-v4l2 --disable-ffmpeg --disable-sdl --disable-openh264
    --disable-vpx --disable-libyuv --disable-libwebrtc
    --disable-silk --disable-bcg729 --disable-lyra
    --disable-opencore-amr --disable-upnp
    --disable-android-mediacodec --disable-darwin-ssl
)
# -fPIC: the static pj libraries are linked into the _pjsua2 extension module,
# which is a shared object. pjsua2 is C++, so CXXFLAGS needs the same.
BUILD_CFLAGS="-fPIC -O2"

# Debian packages the build needs. swig generates the Python binding;
# libssl-dev gives TLS (and SRTP's crypto); uuid-dev is pinned rather than
# auto-detected so every build generates Call-IDs the same way.
APT_DEPS=(build-essential patch swig libssl-dev uuid-dev libopus-dev)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
T0=$SECONDS
CURRENT_STEP="startup"
CURRENT_LOG=""
# What to do about a failure of the current step, printed after its log (empty: nothing).
CURRENT_HINT=""

log() { printf '[build-pjsua2 %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# Any failure under set -e lands here: say which step broke and show the end
# of its log, since the useful compiler error is usually in the last lines.
on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        log "FAILED during step: ${CURRENT_STEP} (exit ${rc}, after $((SECONDS - T0))s)" >&2
        if [[ -n "$CURRENT_LOG" && -s "$CURRENT_LOG" ]]; then
            echo "----- last 40 lines of ${CURRENT_LOG} -----" >&2
            tail -n 40 "$CURRENT_LOG" >&2
            echo "----- full log: ${CURRENT_LOG} -----" >&2
        fi
        if [[ -n "$CURRENT_HINT" ]]; then
            log "hint: ${CURRENT_HINT}" >&2
        fi
    fi
}
trap on_exit EXIT

# run_step NAME LOGFILE CMD...: run CMD with all output in LOGFILE, timing it.
# Logs go to files because make/swig output is thousands of lines.
run_step() {
    local name=$1 logfile=$2; shift 2
    CURRENT_STEP=$name
    CURRENT_LOG=$logfile
    local t=$SECONDS
    log "==> ${name}"
    "$@" >"$logfile" 2>&1
    log "    ${name}: done in $((SECONDS - t))s"
    CURRENT_LOG=""
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

# ---------------------------------------------------------------------------
# Arguments and paths
# ---------------------------------------------------------------------------
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The repo root locates the default venv and the vendored tarball; fall back
# to the directory above scripts/ when not in a git checkout (e.g. a tarball).
REPO_ROOT=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd))
CONFIG_SITE="$SCRIPT_DIR/pjsua2/config_site.h"
# Our fixes to pjproject itself (each file says what and why), applied in name order.
PATCH_DIR="$SCRIPT_DIR/pjsua2/patches"
# Standard library only, so it runs as a plain file even before attendant is installed.
LIMITS_PROBE="$REPO_ROOT/attendant/sip/limits.py"

VENV=""
FORCE=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --venv) [[ $# -ge 2 ]] || die "--venv needs a directory"; VENV=$2; shift 2 ;;
        --venv=*) VENV=${1#--venv=}; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option: $1 (see --help)" ;;
        *) [[ -z "$VENV" ]] || die "venv given twice"; VENV=$1; shift ;;
    esac
done
VENV=${VENV:-"$REPO_ROOT/.venv"}
VENV=$(realpath -m "$VENV")
CACHE=${ATTENDANT_CACHE:-"$HOME/.cache/attendant"}
JOBS=${JOBS:-2}
[[ -f "$CONFIG_SITE" ]] || die "missing $CONFIG_SITE"

log "pjsua2 ${PJ_VERSION} wheel -> venv ${VENV}"

# ---------------------------------------------------------------------------
# 1. Target venv. Needed before the cache lookup: the wheel is specific to
#    the venv's Python ABI (cp311-...), which is part of the key.
# ---------------------------------------------------------------------------
CURRENT_STEP="venv"
if [[ ! -x "$VENV/bin/python" ]]; then
    PY=${PYTHON:-python3.11}
    command -v "$PY" >/dev/null || die "$PY not found; set PYTHON or create $VENV yourself"
    log "creating venv ${VENV} with $PY"
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PY_TAG=$("$VPY" -c 'import sys, sysconfig; print(f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}")')
log "venv python: $("$VPY" -c 'import sys; print(sys.version.split()[0])') (${PY_TAG})"

# ---------------------------------------------------------------------------
# 2. Source tarball: $PJPROJECT_TARBALL, else the vendored copy, else download.
#    In the download case the pinned checksum is known up front, so a cache
#    hit needs no network at all.
# ---------------------------------------------------------------------------
CURRENT_STEP="locate source tarball"
VENDORED="$REPO_ROOT/../shared/vendor/pjproject-${PJ_VERSION}.tar.gz"
TARBALL=""
if [[ -n "${PJPROJECT_TARBALL:-}" ]]; then
    TARBALL=$(realpath "$PJPROJECT_TARBALL")
    [[ -f "$TARBALL" ]] || die "PJPROJECT_TARBALL=$PJPROJECT_TARBALL does not exist"
    TARBALL_SHA=$(sha256_of "$TARBALL")
    if [[ -n "${PJPROJECT_SHA256:-}" && "$TARBALL_SHA" != "$PJPROJECT_SHA256" ]]; then
        die "checksum mismatch for $TARBALL: got $TARBALL_SHA, PJPROJECT_SHA256=$PJPROJECT_SHA256"
    fi
    log "source: $TARBALL (from PJPROJECT_TARBALL, sha256 ${TARBALL_SHA:0:12}…)"
elif [[ -f "$VENDORED" ]]; then
    TARBALL=$(realpath "$VENDORED")
    # Verify against the .sha256 file beside it; sha256sum -c wants to run in
    # that directory because the file names the tarball relatively.
    if [[ -f "$TARBALL.sha256" ]]; then
        (cd "$(dirname "$TARBALL")" && sha256sum --quiet -c "$(basename "$TARBALL").sha256") \
            || die "vendored tarball does not match $(basename "$TARBALL").sha256"
    else
        log "warning: no $(basename "$TARBALL").sha256 beside the vendored tarball; not verified"
    fi
    TARBALL_SHA=$(sha256_of "$TARBALL")
    log "source: $TARBALL (vendored, sha256 verified ${TARBALL_SHA:0:12}…)"
else
    TARBALL_SHA=$PJ_URL_SHA256
    log "source: ${PJ_URL} (download on cache miss, pinned sha256 ${TARBALL_SHA:0:12}…)"
fi

# ---------------------------------------------------------------------------
# 3. Cache key: everything that changes the produced wheel.
# ---------------------------------------------------------------------------
CONFIG_SHA=$(sha256_of "$CONFIG_SITE")
PATCHES=()
[[ -d "$PATCH_DIR" ]] && mapfile -t PATCHES < <(find "$PATCH_DIR" -maxdepth 1 -name '*.patch' | LC_ALL=C sort)
PATCHES_SHA=$(for p in "${PATCHES[@]}"; do printf '%s %s\n' "$(basename "$p")" "$(sha256_of "$p")"; done | sha256sum | cut -c1-64)
KEY_INPUT=$(printf '%s\n' \
    "pjproject=${PJ_VERSION}" "tarball_sha256=${TARBALL_SHA}" \
    "config_site_sha256=${CONFIG_SHA}" "patches_sha256=${PATCHES_SHA}" \
    "build_flags_version=${BUILD_FLAGS_VERSION}" \
    "configure=${CONFIGURE_ARGS[*]}" "cflags=${BUILD_CFLAGS}" \
    "setuptools=${SETUPTOOLS_PIN}" "python=${PY_TAG}")
KEY=$(printf '%s' "$KEY_INPUT" | sha256sum | cut -c1-16)
WHEEL_DIR="$CACHE/wheels/$KEY"
BUILD_DIR="$CACHE/build/pjproject-${PJ_VERSION}-${KEY}"
log "cache key: ${KEY}"

mkdir -p "$CACHE/wheels" "$CACHE/build"
# Serialise concurrent runs (e.g. two worktrees) so they do not build into the
# same directory or half-write the cached wheel.
exec 9>"$CACHE/.build-pjsua2.lock"
flock 9

find_cached_wheel() { compgen -G "$WHEEL_DIR/pjsua2-*.whl" | head -n1 || true; }
WHEEL=$(find_cached_wheel)

if [[ -n "$WHEEL" && $FORCE -eq 0 ]]; then
    log "reusing cached wheel $WHEEL (no build needed)"
else
    [[ $FORCE -eq 1 ]] && log "--force: rebuilding"
    log "no cached wheel for this key: building (several minutes on 2 cores)"
    BUILD_T0=$SECONDS

    # -----------------------------------------------------------------------
    # 4. Build dependencies, only when missing: apt-get update is slow and
    #    needs the network, so a machine that has everything skips apt.
    # -----------------------------------------------------------------------
    CURRENT_STEP="apt dependencies"
    need=()
    for pkg in "${APT_DEPS[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    # Python.h comes with pyenv/python.org builds; Debian's own interpreter
    # needs its -dev package.
    if ! "$VPY" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
        need+=("python$("$VPY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-dev")
    fi
    if [[ -z "$TARBALL" ]] && ! command -v curl >/dev/null; then
        need+=(curl ca-certificates)
    fi
    if [[ ${#need[@]} -gt 0 ]]; then
        [[ $(id -u) -eq 0 ]] || die "missing packages ${need[*]}; run as root or install them"
        log "installing apt packages: ${need[*]}"
        run_step "apt-get update" "$CACHE/build/apt.log" apt-get update
        run_step "apt-get install ${need[*]}" "$CACHE/build/apt.log" \
            env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
    else
        log "apt dependencies present: ${APT_DEPS[*]}"
    fi

    # -----------------------------------------------------------------------
    # 5. Fresh out-of-tree source directory. Always start clean: a half-built
    #    tree from a failed run must not leak into the wheel.
    # -----------------------------------------------------------------------
    CURRENT_STEP="prepare build dir"
    rm -rf "$BUILD_DIR"
    mkdir -p "$BUILD_DIR/logs"
    LOGS="$BUILD_DIR/logs"
    printf '%s\n' "$KEY_INPUT" >"$BUILD_DIR/cache-key.txt"

    if [[ -z "$TARBALL" ]]; then
        TARBALL="$BUILD_DIR/pjproject-${PJ_VERSION}.tar.gz"
        CURRENT_HINT="without internet access, put the pjproject ${PJ_VERSION} release at ${VENDORED} (clone the repository next to shared/) or run again with PJPROJECT_TARBALL=/path/to/pjproject-${PJ_VERSION}.tar.gz"
        run_step "download ${PJ_URL}" "$LOGS/00-download.log" \
            curl -fsSL --retry 3 --proto '=https' -o "$TARBALL" "$PJ_URL"
        CURRENT_STEP="verify download"
        got=$(sha256_of "$TARBALL")
        [[ "$got" == "$PJ_URL_SHA256" ]] || die "downloaded tarball sha256 $got != pinned $PJ_URL_SHA256"
        CURRENT_HINT=""
    fi

    run_step "extract" "$LOGS/01-extract.log" \
        tar -xzf "$TARBALL" -C "$BUILD_DIR"
    SRC="$BUILD_DIR/pjproject-${PJ_VERSION}"
    [[ -f "$SRC/version.mak" ]] || die "tarball did not unpack to pjproject-${PJ_VERSION}/"
    cp "$CONFIG_SITE" "$SRC/pjlib/include/pj/config_site.h"
    for p in "${PATCHES[@]}"; do
        run_step "patch $(basename "$p")" "$LOGS/01-patch-$(basename "$p" .patch).log" \
            patch -d "$SRC" -p1 --forward --no-backup-if-mismatch -i "$p"
    done

    # -----------------------------------------------------------------------
    # 6. Configure and build the C libraries.
    # -----------------------------------------------------------------------
    run_step "configure" "$LOGS/02-configure.log" \
        env -C "$SRC" CFLAGS="$BUILD_CFLAGS" CXXFLAGS="$BUILD_CFLAGS" \
        ./configure "${CONFIGURE_ARGS[@]}"
    # Fail early and clearly if TLS silently dropped out (configure only
    # auto-detects it); SRTP is bundled and always on unless disabled.
    CURRENT_STEP="check configure result"
    CURRENT_LOG="$LOGS/02-configure.log"
    grep -q 'define PJ_SSL_SOCK_IMP PJ_SSL_SOCK_IMP_OPENSSL' "$SRC/pjlib/include/pj/compat/os_auto.h" \
        || die "configure did not enable OpenSSL TLS (is libssl-dev installed?)"
    CURRENT_LOG=""
    log "    configure: TLS via OpenSSL enabled"

    run_step "make dep" "$LOGS/03-make-dep.log" make -C "$SRC" dep
    run_step "make -j${JOBS} lib" "$LOGS/04-make-lib.log" make -C "$SRC" -j"$JOBS" lib

    # -----------------------------------------------------------------------
    # 7. SWIG binding and wheel. setup.py builds the extension with the
    #    interpreter it runs under, so it must be the target venv's Python; a
    #    throwaway build venv made from it keeps setuptools out of the
    #    target venv.
    # -----------------------------------------------------------------------
    # shellcheck disable=SC2016  # $1..$3 are expanded by the inner bash, on purpose
    run_step "build venv (${SETUPTOOLS_PIN})" "$LOGS/05-build-venv.log" \
        bash -c '"$1" -m venv "$2" && "$2/bin/python" -m pip install --disable-pip-version-check -q "$3"' \
        _ "$VPY" "$BUILD_DIR/build-venv" "$SETUPTOOLS_PIN"
    SWIG_PY_DIR="$SRC/pjsip-apps/src/swig/python"
    # PYTHON_EXE overrides the Makefile's bare 'python3'; the 'wheel' target
    # runs swig first (pjsua2_wrap.cpp), then 'setup.py bdist_wheel'.
    run_step "swig + make wheel" "$LOGS/06-make-wheel.log" \
        make -C "$SWIG_PY_DIR" wheel PYTHON_EXE="$BUILD_DIR/build-venv/bin/python"

    CURRENT_STEP="store wheel in cache"
    built=$(compgen -G "$SWIG_PY_DIR/dist/pjsua2-*.whl" | head -n1 || true)
    [[ -n "$built" ]] || die "make wheel produced no wheel in $SWIG_PY_DIR/dist"
    # Copy then rename so an interrupted run never leaves a truncated wheel
    # that a later run would take for a cache hit.
    rm -rf "$WHEEL_DIR" "$WHEEL_DIR.tmp"
    mkdir -p "$WHEEL_DIR.tmp"
    cp "$built" "$WHEEL_DIR.tmp/"
    cp "$BUILD_DIR/cache-key.txt" "$WHEEL_DIR.tmp/"
    mv "$WHEEL_DIR.tmp" "$WHEEL_DIR"
    WHEEL=$(find_cached_wheel)
    log "built $(basename "$WHEEL") in $((SECONDS - BUILD_T0))s (logs and tree kept in $BUILD_DIR)"
    # Build trees of other keys are ~250 MB of scratch each and never reused
    # (a key change always rebuilds from a clean tree): drop them.
    for old in "$CACHE/build/pjproject-${PJ_VERSION}-"*; do
        [[ -d "$old" && "$old" != "$BUILD_DIR" ]] || continue
        log "removing stale build tree $old"
        rm -rf "$old"
    done
fi

# ---------------------------------------------------------------------------
# 8. Install. --force-reinstall because a rebuilt wheel keeps the same version
#    (2.17), and pip would otherwise keep the old build; --no-deps since the
#    wheel has none.
# ---------------------------------------------------------------------------
run_step "pip install $(basename "$WHEEL")" "$CACHE/build/pip-install.log" \
    "$VPY" -m pip install --disable-pip-version-check --no-deps --force-reinstall "$WHEEL"

CURRENT_STEP="post-install check"
if [[ -f "$LIMITS_PROBE" ]]; then
    # Proves the module imports and shows the limits actually compiled in.
    PROBED=$("$VPY" "$LIMITS_PROBE")
    echo "$PROBED"
    # configure finds Opus by itself; a build that silently lost it is refused.
    CURRENT_HINT="install libopus-dev (apt-get install libopus-dev) and rebuild with --force"
    grep -q "opus" <<<"$PROBED" || die "the wheel was built without the Opus codec"
    CURRENT_HINT=""
else
    "$VPY" -c 'import pjsua2 as pj; ep = pj.Endpoint(); ep.libCreate(); print("pjsua2", ep.libVersion().full); ep.libDestroy()'
fi

CURRENT_STEP="done"
log "done in $((SECONDS - T0))s; wheel: $WHEEL"
