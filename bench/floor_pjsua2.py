"""The floor: a bare pjsua2 answerer, to compare `attendant serve` against.

    python bench/floor_pjsua2.py --port 5080 --wav prompt.wav --probe floor.jsonl

Answers every INVITE (180, then 200 on the next loop turn, as serve does), plays
a WAV prompt to the caller, and on every RFC 4733 digit stops it and starts the
prompt again (the "next prompt"). Nothing else: no engine, no call log, no
status file, no metrics. The endpoint settings are serve's (attendant/sip/
endpoint.py): one thread running ``libHandleEvents(10 ms)`` with ``threadCnt =
0`` for SIP and media, null audio device, 8 kHz bridge, no VAD, no echo
canceller, 1 audio stream per call; RTP statistics sampled every second.

With ``--legs-to URI`` it also carries the media of serve's main line (the
``floor+legs`` rows of docs/BENCHMARKS.md): a caller whose keys are ``10`` or
``122`` gets an outgoing call to URI bridged both ways (serve's operator transfer
and support queue), and ``13`` records the caller to a WAV file (voicemail), so
serve can be compared with bare pjsua2 doing the same RTP and bridge work.

On SIGTERM it writes the probe file (digit and prompt-start times, and a final
``{"k": "s", ...}`` line with totals and RTP loss) and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import heapq
import json
import resource
import signal
import threading
import time
from typing import Any

import pjsua2 as pj

NOTES: list[tuple[str, str, str, float]] = []
STOP = threading.Event()


class Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    pass


def _active_audio(call: pj.Call) -> Any:
    """The call's active audio media, or None."""
    info = call.getInfo()  # kept alive while its media entries are read
    for media in info.media:
        if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            return call.getAudioMedia(media.index)
    return None


class Leg(pj.Call):  # type: ignore[misc]
    """The outgoing call a transfer or queue caller is bridged to."""

    def __init__(self, acc: Any, caller: Call):
        super().__init__(acc)
        self.caller = caller
        self.media: Any = None

    def onCallMediaState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        self.media = _active_audio(self)
        if self.media is not None:
            self.caller.bridge()

    def onCallState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.media = None


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, app: App, acc: Any, call_id: int, caller: str):
        super().__init__(acc, call_id)
        self.app, self.caller = app, caller
        self.acc = acc
        self.media: Any = None
        self.player: Any = None
        self.loss = 0
        self.rx = 0
        self.ended = False
        self.keys = ""
        self.leg: Leg | None = None
        self.recorder: Any = None

    def onCallState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True
            self.player = None
            self.media = None
            self.recorder = None
            leg, self.leg = self.leg, None
            if leg is not None:
                with contextlib.suppress(pj.Error):
                    leg.hangup(pj.CallOpParam(True))
                self.app.legs_ended.append(leg)  # dropped on the loop, not in a callback
            self.app.ended(self)
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.app.later(1.0, self.sample)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        self.media = _active_audio(self)
        if self.media is not None:
            self.play()

    def onDtmfDigit(self, prm: Any) -> None:
        NOTES.append(("d", self.caller, str(prm.digit), time.time()))
        self.app.digits += 1
        self.keys += str(prm.digit)
        if self.app.legs_to and self.keys in ("10", "122"):
            self.app.later(0.0, self.transfer)
        elif self.app.legs_to and self.keys == "13":
            self.play()
            self.app.later(0.0, self.record)
        else:
            self.play()

    def transfer(self) -> None:
        if self.ended or self.leg is not None:
            return
        old, self.player = self.player, None
        if old is not None and self.media is not None:
            old.stopTransmit(self.media)
        leg = Leg(self.acc, self)
        op = pj.CallOpParam(True)
        op.opt.audioCount, op.opt.videoCount, op.opt.textCount = 1, 0, 0
        leg.makeCall(self.app.legs_to, op)
        self.leg = leg

    def bridge(self) -> None:
        leg = self.leg
        if leg is None or leg.media is None or self.media is None:
            return
        leg.media.startTransmit(self.media)
        self.media.startTransmit(leg.media)

    def record(self) -> None:
        if self.ended or self.media is None or self.recorder is not None:
            return
        recorder = pj.AudioMediaRecorder()
        self.app.recordings += 1
        recorder.createRecorder(f"floor-{self.app.recordings}.wav")
        self.media.startTransmit(recorder)
        self.recorder = recorder

    def onStreamDestroyed(self, prm: Any) -> None:
        try:
            rx = self.getStreamStat(prm.streamIdx).rtcp.rxStat
            NOTES.append(("l", self.caller, f"{int(rx.pkt)}/{int(rx.loss)}", time.time()))
        except pj.Error:
            NOTES.append(("l", self.caller, "?", time.time()))

    def play(self) -> None:
        if self.media is None:
            return
        old, self.player = self.player, None
        if old is not None:
            old.stopTransmit(self.media)
        player = Player()
        player.createPlayer(self.app.wav, pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(self.media)
        self.player = player
        NOTES.append(("p", self.caller, "", time.time()))

    def sample(self) -> None:
        if self.ended:
            return
        try:
            rtcp = self.getStreamStat(0).rtcp
            self.rx, self.loss = int(rtcp.rxStat.pkt), int(rtcp.rxStat.loss)
        except pj.Error:
            return
        self.app.later(1.0, self.sample)


class Account(pj.Account):  # type: ignore[misc]
    def __init__(self, app: App):
        super().__init__()
        self.app = app

    def onIncomingCall(self, prm: Any) -> None:
        self.app.incoming(self, prm)


class App:
    def __init__(self, wav: str, max_calls: int, legs_to: str = ""):
        self.wav = wav
        self.legs_to = legs_to
        self.legs_ended: list[Leg] = []
        self.recordings = 0
        self.max_calls = max_calls
        self.calls: dict[int, Call] = {}
        self.timers: list[tuple[float, int, Any]] = []
        self.seq = 0
        self.answered = self.rejected = self.digits = 0
        self.loss = self.rx = 0

    def later(self, seconds: float, fn: Any) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + seconds, self.seq, fn))

    def incoming(self, acc: Any, prm: Any) -> None:
        caller = str(prm.rdata.srcAddress)
        whole = str(prm.rdata.wholeMsg)
        for line in whole.splitlines():
            if line.lower().startswith(("from:", "f:")) and "sip:" in line:
                caller = line.split("sip:", 1)[1].split("@", 1)[0]
                break
        call = Call(self, acc, prm.callId, caller)
        op = pj.CallOpParam(True)
        if len(self.calls) >= self.max_calls:
            op.statusCode = 503
            self.rejected += 1
            call.answer(op)
            return
        self.calls[prm.callId] = call
        self.answered += 1
        op.statusCode = 180
        call.answer(op)

        def ok() -> None:
            if call.ended:
                return
            op2 = pj.CallOpParam(True)
            op2.statusCode = 200
            op2.opt.audioCount, op2.opt.videoCount, op2.opt.textCount = 1, 0, 0
            call.answer(op2)

        self.later(0.0, ok)

    def ended(self, call: Call) -> None:
        self.loss += call.loss
        self.rx += call.rx
        for key, value in list(self.calls.items()):
            if value is call:
                del self.calls[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5080)
    parser.add_argument("--rtp-ports", default="30000-40000")
    parser.add_argument("--wav", required=True)
    parser.add_argument("--max-calls", type=int, default=512)
    parser.add_argument("--clock-rate", type=int, default=8000)
    parser.add_argument("--probe", required=True)
    parser.add_argument("--legs-to", default="",
                        help="bridge callers who press 10 or 122 to this SIP URI, record 13")
    args = parser.parse_args()
    low, high = (int(p) for p in args.rtp_ports.split("-"))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    app = App(args.wav, args.max_calls, args.legs_to)
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = False
    cfg.uaConfig.maxCalls = args.max_calls * 2 + 8
    cfg.medConfig.threadCnt = 0
    cfg.medConfig.clockRate = args.clock_rate
    cfg.medConfig.sndClockRate = args.clock_rate
    cfg.medConfig.channelCount = 1
    cfg.medConfig.noVad = True
    cfg.medConfig.ecTailLen = 0
    cfg.medConfig.maxMediaPorts = args.max_calls * 8 + 32
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    ep.libInit(cfg)
    tp = pj.TransportConfig()
    tp.boundAddress = args.listen
    tp.port = args.port
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tp)
    ep.audDevManager().setNullDev()
    ep.libStart()
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = f"sip:floor@{args.listen}:{args.port}"
    acc_cfg.mediaConfig.transportConfig.port = low
    acc_cfg.mediaConfig.transportConfig.portRange = high - low
    acc_cfg.mediaConfig.transportConfig.boundAddress = args.listen
    acc_cfg.natConfig.sdpNatRewriteUse = 0
    acc = Account(app)
    acc.create(acc_cfg, True)
    print("floor: listening", flush=True)
    while not STOP.is_set():
        now = time.monotonic()
        while app.timers and app.timers[0][0] <= now:
            heapq.heappop(app.timers)[2]()  # no local name: it would keep a Call past libDestroy
        app.legs_ended.clear()
        ep.libHandleEvents(10)
    for call in list(app.calls.values()):
        app.ended(call)
    totals = {"answered": app.answered, "rejected": app.rejected, "digits": app.digits,
              "rtp_rx": app.rx, "rtp_loss": app.loss, "active_calls": len(app.calls)}
    with open(args.probe, "w", encoding="utf-8") as out:
        for kind, caller, what, at in NOTES:
            out.write(json.dumps({"k": kind, "c": caller, "w": what, "t": at}) + "\n")
        out.write(json.dumps({"k": "s", **totals}) + "\n")
    for call in list(app.calls.values()):
        call.leg = None
    app.calls.clear()
    app.legs_ended.clear()
    app.timers.clear()  # they hold Call objects: drop them all before libDestroy
    gc.collect()  # drop any Call still held by a cycle while pjsua can still free it
    acc.shutdown()
    del acc
    ep.libDestroy()


if __name__ == "__main__":
    main()
