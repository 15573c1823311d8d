"""The floor: a bare pjsua2 answerer, to compare `attendant serve` against.

    python bench/floor_pjsua2.py --port 5080 --wav prompt.wav --probe floor.jsonl

Answers every INVITE (180, then 200 on the next loop turn, as serve does), plays
a WAV prompt to the caller, and on every RFC 4733 digit stops it and starts the
prompt again (the "next prompt"). Nothing else: no engine, no call log, no
status file, no metrics. The endpoint settings are serve's (attendant/sip/
endpoint.py): one thread running ``libHandleEvents(10 ms)`` with ``threadCnt =
0`` for SIP and media, null audio device, 8 kHz bridge, no VAD, no echo
canceller, 1 audio stream per call; RTP statistics sampled every second.

On SIGTERM it writes the probe file (digit and prompt-start times, and a final
``{"k": "s", ...}`` line with totals and RTP loss) and exits.
"""

from __future__ import annotations

import argparse
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


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, app: App, acc: Any, call_id: int, caller: str):
        super().__init__(acc, call_id)
        self.app, self.caller = app, caller
        self.media: Any = None
        self.player: Any = None
        self.loss = 0
        self.rx = 0
        self.ended = False

    def onCallState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True
            self.player = None
            self.media = None
            self.app.ended(self)
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.app.later(1.0, self.sample)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: ARG002 (pjsua2's signature)
        info = self.getInfo()
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and \
                    media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(media.index)
                self.play()
                return

    def onDtmfDigit(self, prm: Any) -> None:
        NOTES.append(("d", self.caller, str(prm.digit), time.time()))
        self.app.digits += 1
        self.play()

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
    def __init__(self, wav: str, max_calls: int):
        self.wav = wav
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
    args = parser.parse_args()
    low, high = (int(p) for p in args.rtp_ports.split("-"))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    app = App(args.wav, args.max_calls)
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
            _, _, fn = heapq.heappop(app.timers)
            fn()
        ep.libHandleEvents(10)
    for call in list(app.calls.values()):
        app.ended(call)
    totals = {"answered": app.answered, "rejected": app.rejected, "digits": app.digits,
              "rtp_rx": app.rx, "rtp_loss": app.loss, "active_calls": len(app.calls)}
    with open(args.probe, "w", encoding="utf-8") as out:
        for kind, caller, what, at in NOTES:
            out.write(json.dumps({"k": kind, "c": caller, "w": what, "t": at}) + "\n")
        out.write(json.dumps({"k": "s", **totals}) + "\n")
    app.calls.clear()
    app.timers.clear()  # they hold Call objects: drop them all before libDestroy
    acc.shutdown()
    del acc
    ep.libDestroy()


if __name__ == "__main__":
    main()
