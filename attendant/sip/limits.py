"""Report the pjsua2 version and the call/media limits compiled into it.

Used by ``attendant doctor`` and by ``attendant serve`` at start-up (to refuse a
``--max-calls`` above what the library allows). It imports only the standard
library, so ``scripts/build-pjsua2.sh`` runs it as a plain file to check a fresh
build before attendant is installed. Also runnable on its own::

    python -m attendant.sip.limits          # human-readable
    python -m attendant.sip.limits --json   # one JSON object

How the effective maximum number of calls is measured (pjproject 2.17):

* ``pjsua_init()`` silently clamps ``UaConfig.maxCalls`` to the compiled-in
  ``PJSUA_MAX_CALLS`` (pjsua_call.c); it does not fail, so "ask for more and
  see if it is refused" reveals nothing.
* Right after that, the media subsystem raises ``MediaConfig.maxMediaPorts``
  to ``max_calls + 2`` whenever it is smaller than the (already clamped)
  ``max_calls`` (pjsua_media.c), and ``Endpoint.mediaMaxPorts()`` returns it.

So: ``libInit`` with a huge ``maxCalls`` and ``maxMediaPorts=1`` makes
``mediaMaxPorts() - 2`` equal the limit the library really enforces. The
defaults of ``UaConfig()`` / ``MediaConfig()`` (filled by
``pjsua_config_default``) give ``PJSUA_MAX_CALLS`` / ``PJSUA_MAX_CONF_PORTS``
directly and serve as a cross-check.

pjsua is a process-wide singleton: call :func:`probe_limits` before the
application creates its own ``Endpoint`` (or run this file in a subprocess).
It creates, initialises and destroys a library instance, starts no threads
and opens no sockets or audio devices.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass

#: The limit of the PyPI wheels (and of a stock pjproject build): far too low for a main line.
STOCK_MAX_CALLS = 4
#: How to get our own build, printed whenever pjsua2 is missing or has the stock limits.
FIX_COMMAND = "bash scripts/build-pjsua2.sh --venv .venv"

# More than any build could allow; pjsua clamps it to PJSUA_MAX_CALLS.
_ASK_CALLS = 1 << 20
# mediaMaxPorts() == clamped max_calls + _EXTRA_PORTS when maxMediaPorts is
# below max_calls (pjsua_media.c, pjsua_media_subsys_init).
_EXTRA_PORTS = 2


@contextlib.contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Send C-level stdout to /dev/null for the duration of the block.

    ``libCreate`` logs a few lines at pjlib's default level before any
    LogConfig can apply, and pjsua2 has no way to lower the level earlier;
    silencing them keeps ``--json`` output parseable.
    """
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@dataclass(frozen=True)
class PjLimits:
    """Limits of the pjsua2 library loaded in this interpreter."""

    version: str
    """pjsua2 version string, e.g. ``"2.17"``."""
    max_calls: int
    """Calls pjsua will actually allow: measured from the maxCalls clamp."""
    default_max_calls: int
    """``UaConfig().maxCalls``: the compiled ``PJSUA_MAX_CALLS``."""
    default_max_conf_ports: int
    """``MediaConfig().maxMediaPorts``: the compiled ``PJSUA_MAX_CONF_PORTS``."""
    tls: bool = False
    """Built with an SSL library: ``serve --transport tls`` can work."""
    codecs: tuple[str, ...] = ()
    """The audio codecs the build has, by our names (:mod:`attendant.sip.codecs`)."""


def probe_limits() -> PjLimits:
    """Measure the pjsua2 version and the effective maximum number of calls.

    Raises ImportError if pjsua2 is not installed, and pjsua2.Error if an
    ``Endpoint`` already exists in this process or the library cannot start.
    """
    import pjsua2 as pj

    default_calls = int(pj.UaConfig().maxCalls)
    default_ports = int(pj.MediaConfig().maxMediaPorts)

    ep = pj.Endpoint()
    try:
        with _c_stdout_silenced():
            ep.libCreate()
        version = str(ep.libVersion().full)
        from attendant.sip.endpoint import tls_available

        tls = tls_available(ep)

        cfg = pj.EpConfig()
        cfg.logConfig.level = 0
        cfg.logConfig.consoleLevel = 0
        cfg.uaConfig.maxCalls = _ASK_CALLS
        cfg.uaConfig.threadCnt = 0  # no worker thread: nothing to poll
        cfg.medConfig.threadCnt = 0
        cfg.medConfig.maxMediaPorts = 1  # forces max_calls + 2
        ep.libInit(cfg)
        measured = int(ep.mediaMaxPorts()) - _EXTRA_PORTS
        from attendant.sip.codecs import codec_names

        codecs = codec_names([str(info.codecId) for info in ep.codecEnum2()])
    finally:
        ep.libDestroy()
        # Drop the C++ singleton so the caller may create its own Endpoint.
        del ep

    return PjLimits(
        version=version,
        max_calls=measured,
        default_max_calls=default_calls,
        default_max_conf_ports=default_ports,
        tls=tls,
        codecs=codecs,
    )


def version_only() -> str | None:
    """The pjsua2 version without starting the library, or None when it is not installed."""
    try:
        import pjsua2 as pj
    except ImportError:
        return None
    return str(getattr(pj, "__version__", "") or "unknown")


def main(argv: list[str] | None = None) -> int:
    """Print the probe result; ``--json`` for machine-readable output."""
    args = sys.argv[1:] if argv is None else argv
    limits = probe_limits()
    if "--json" in args:
        print(json.dumps(asdict(limits)))
    else:
        print(
            f"pjsua2 {limits.version}: effective max calls {limits.max_calls} "
            f"(PJSUA_MAX_CALLS default {limits.default_max_calls}, "
            f"PJSUA_MAX_CONF_PORTS default {limits.default_max_conf_ports}); "
            f"codecs: {', '.join(limits.codecs)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
