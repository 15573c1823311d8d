"""RTP packet counts of a call: the caller's stream and the answered transfer leg's.

Read from pjmedia on demand (status snapshots, the media sweep, hang-up, a stream's
end) rather than sampled by a timer: a 1 s timer per call cost a few % of a core at
500 calls.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pjsua2 as pj

from attendant.sip.legs import audio_entry


@dataclass
class RtpStats:
    """RTP packets of the caller's stream and of the answered transfer leg's."""

    caller_rx: int = 0
    caller_tx: int = 0
    leg_rx: int = 0
    leg_tx: int = 0

    def read_caller(self, call: pj.Call, index: int | None = None) -> None:
        """Take the caller's counts from stream ``index`` (default: the audio stream)."""
        if index is None:
            entry = audio_entry(call)
            if entry is None:
                return
            index = entry[0]
        with contextlib.suppress(pj.Error):
            rtcp = call.getStreamStat(index).rtcp
            self.caller_rx = int(rtcp.rxStat.pkt)
            self.caller_tx = int(rtcp.txStat.pkt)
