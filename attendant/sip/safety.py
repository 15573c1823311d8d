"""The limits that protect ``attendant serve`` from callers who vanish or misbehave.

Anyone who can reach the SIP port is untrusted (docs/security.md). These
settings bound what one call or one source can cost the server:

* ``ack_grace``: seconds a 200 OK may wait for its ACK. A spoofed INVITE is
  never ACKed; its RTP goes to whatever address its SDP named, so the call is
  torn down after this grace rather than pjsip's 64 s transaction timeout.
  Our RTP starts with the 200 OK (50 packets a second: VAD is off), so the
  grace is short; 1.5 s still outlasts one lost 200 OK, resent after 0.5 s.
* ``rtp_timeout``: seconds without a single RTP packet from an active
  (not held) caller before the call is hung up (the caller vanished).
* ``hold_timeout``: seconds a caller may keep us on hold (``sendonly``,
  ``inactive``) before the call is hung up.
* ``session_expires``: RFC 4028 session timer used on every call (we refresh
  when the caller does not offer to); a caller that stops answering refreshes,
  or stops sending its own, is hung up by pjsip.
* ``min_free_mb``: free space the data folder's disk must keep; below it no
  message is recorded (the caller hears so) and one being recorded is stopped,
  its audio kept, rather than a file cut off by a full disk.
* ``log_rotate_mb``, ``log_rotate_days``, ``log_keep``: ``calls.jsonl`` is
  rotated past that size or age, and that many rotated files are kept.
* ``calls_per_source``, ``invite_rate``, ``invite_burst``, ``trusted``: the
  per-source admission limits (:mod:`attendant.sip.admission`).

Zero disables a timeout. The defaults suit a public trunk; tests shorten them.
"""

from __future__ import annotations

from dataclasses import dataclass

from attendant.sip.admission import (
    DEFAULT_CALLS_PER_SOURCE,
    DEFAULT_INVITE_BURST,
    DEFAULT_INVITE_RATE,
    Network,
)

#: pjsip's (and RFC 4028's) smallest session interval.
MIN_SESSION_EXPIRES = 90
#: How often the server looks at every call's RTP counters and hold state.
MEDIA_SWEEP_S = 2.0


@dataclass(frozen=True)
class Safety:
    """What ``--ack-grace``, ``--rtp-timeout``, ``--hold-timeout`` and the others set."""

    ack_grace: float = 1.5
    rtp_timeout: float = 30.0
    hold_timeout: float = 600.0
    session_expires: int = 1800
    min_free_mb: float = 100.0
    log_rotate_mb: float = 64.0
    log_rotate_days: float = 7.0
    log_keep: int = 8
    calls_per_source: int = DEFAULT_CALLS_PER_SOURCE
    invite_rate: float = DEFAULT_INVITE_RATE
    invite_burst: int = DEFAULT_INVITE_BURST
    trusted: tuple[Network, ...] = ()

    def problems(self) -> list[str]:
        """What is wrong with these settings, as the option a user should change."""
        found = []
        for name in ("ack_grace", "rtp_timeout", "hold_timeout", "invite_rate", "min_free_mb",
                     "log_rotate_mb", "log_rotate_days", "log_keep"):
            if getattr(self, name) < 0:
                found.append(f"--{name.replace('_', '-')} must be 0 or more")
        if self.session_expires and self.session_expires < MIN_SESSION_EXPIRES:
            found.append(f"--session-expires must be 0 (off) or at least "
                         f"{MIN_SESSION_EXPIRES} seconds (RFC 4028)")
        if self.calls_per_source < 0 or self.invite_burst < 0:
            found.append("--max-calls-per-source and --invite-burst must be 0 or more")
        return found


__all__ = ["MEDIA_SWEEP_S", "MIN_SESSION_EXPIRES", "Safety"]
