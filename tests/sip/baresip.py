"""A real softphone for the end-to-end tests: baresip driven over its ``ctrl_tcp`` module.

:class:`Baresip` starts ``baresip`` (the Debian package, 1.0.0 in bookworm) with a
config folder generated in the test's tmp folder, connects to ``ctrl_tcp`` on
127.0.0.1 and speaks its protocol: netstring-framed JSON. A command is
``{"command": "dial", "params": "sip:main@127.0.0.1:5060", "token": "3"}``; its
answer is ``{"response": true, "ok": ..., "data": ..., "token": "3"}``; call
events arrive unasked as ``{"event": true, "type": "CALL_ESTABLISHED", ...}``.

No sound device is used: the microphone is ``aufile`` reading a WAV the driver
writes (a quiet tone long enough for any test: at the end of the file baresip
would close the call), and the loudspeaker is ``aubridge`` with no source on
the other side, so received audio is decoded and dropped. Keys go out with
the ``sndcode`` command as RFC 4733 telephone-events.

The process is stopped by its PID (SIGTERM, then SIGKILL) and every wait has a
deadline.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

from sip_harness import DEADLINE_S, PHONE_RTP_PORTS, free_udp_ports

MODULES = Path("/usr/lib/baresip/modules")


def available() -> bool:
    """baresip and the modules the driver loads are installed."""
    return shutil.which("baresip") is not None and all(
        (MODULES / f"{name}.so").exists()
        for name in ("g711", "aufile", "aubridge", "ctrl_tcp", "menu", "account"))


def write_tone_wav(path: Path, seconds: float = 120.0, rate: int = 8000) -> Path:
    """A quiet 400 Hz tone (16-bit mono): baresip's microphone."""
    frame = [int(2000 * math.sin(2 * math.pi * 400 * i / rate)) for i in range(rate // 50)]
    chunk = struct.pack(f"<{len(frame)}h", *frame)  # 20 ms, a whole number of periods
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(chunk * int(seconds * 50))
    return path


def _netstring(payload: bytes) -> bytes:
    return str(len(payload)).encode() + b":" + payload + b","


class Baresip:
    """One baresip process with its own SIP, RTP and control ports."""

    def __init__(self, tmp: Path, name: str = "caller", mediaenc: str = ""):
        """``mediaenc``: media encryption of the account (``srtp-mand``: SRTP or no call)."""
        self.mediaenc = mediaenc
        self.dir = tmp / f"baresip-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.sip_port = free_udp_ports(1)
        self.ctrl_port = free_udp_ports(1)
        self.rtp_port = free_udp_ports(1, *PHONE_RTP_PORTS)
        self.log = self.dir / "baresip.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._tokens = iter(range(1, 1 << 30))

    # --- process -------------------------------------------------------------------

    def _write_config(self) -> None:
        # baresip keeps a device name in a fixed buffer and cuts a long one, so the WAV is
        # named relative to its working folder (self.dir): a deep tmp path (pytest-xdist's
        # popen-gwN level) made aufile fail with "No such file or directory".
        wav = write_tone_wav(self.dir / "microphone.wav").name
        (self.dir / "config").write_text(f"""\
poll_method epoll
sip_listen 127.0.0.1:{self.sip_port}
call_local_timeout 60
call_max_calls 4
audio_player aubridge,nil
audio_alert aubridge,nil
audio_source aufile,{wav}
audio_buffer 40
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports {self.rtp_port}-{self.rtp_port + 40}
rtcp_mux no
jitter_buffer_delay 1-10
net_interface 127.0.0.1
module_path {MODULES}
module g711.so
{"module srtp.so" if self.mediaenc else ""}
module aufile.so
module aubridge.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
ringback_disabled yes
statmode_default off
""")
        # regint=0: no REGISTER; only PCMU so both ends agree without transcoding.
        (self.dir / "accounts").write_text(
            f"<sip:{self.name}@127.0.0.1:{self.sip_port}>;regint=0;audio_codecs=PCMU"
            + (f";mediaenc={self.mediaenc}" if self.mediaenc else "") + "\n")

    def start(self) -> Baresip:
        """Start baresip and connect to its control port (within the deadline)."""
        self._write_config()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(["baresip", "-4", "-f", str(self.dir)],
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baresip exited ({self.proc.returncode})\n{self.logs()}")
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"baresip's ctrl_tcp did not open\n{self.logs()}") from exc
                time.sleep(0.1)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read, name="baresip-ctrl", daemon=True)
        self._reader.start()
        return self

    def stop(self) -> None:
        """Close the control connection and end the process by its PID."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        proc = self.proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)

    def logs(self) -> str:
        try:
            text = self.log.read_text(errors="replace")[-4000:]
        except OSError:
            text = ""
        with self._lock:
            seen = "\n".join(json.dumps(m) for m in self._messages[-30:])
        return f"--- baresip log ---\n{text}\n--- baresip ctrl_tcp messages ---\n{seen}"

    # --- ctrl_tcp --------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        sock = self._sock
        assert sock is not None
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:
                colon = buf.find(b":")
                if colon < 0:
                    break
                size = int(buf[:colon])
                if len(buf) < colon + 1 + size + 1:
                    break
                payload = buf[colon + 1:colon + 1 + size]
                buf = buf[colon + 2 + size:]
                try:
                    message = json.loads(payload)
                except ValueError:
                    message = {"unparsed": payload.decode(errors="replace")}
                with self._lock:
                    self._messages.append(message)

    def _find(self, match: Any, start: int = 0) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            for index in range(start, len(self._messages)):
                if match(self._messages[index]):
                    return index, self._messages[index]
        return None

    def command(self, command: str, params: str = "", timeout: float = DEADLINE_S
                ) -> dict[str, Any]:
        """Send one command; return its response (raise when it is not ok)."""
        assert self._sock is not None
        token = str(next(self._tokens))
        body = {"command": command, "params": params, "token": token}
        self._sock.sendall(_netstring(json.dumps(body).encode()))
        found = self._wait(lambda m: m.get("response") and m.get("token") == token,
                           f"the answer to {command}", timeout)
        if not found.get("ok"):
            raise RuntimeError(f"baresip refused {command} {params!r}: {found}\n{self.logs()}")
        return found

    def _wait(self, match: Any, what: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self._find(match)
            if found is not None:
                return found[1]
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"baresip exited while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} from baresip in {timeout:.0f} s\n{self.logs()}")
            time.sleep(0.05)

    def wait_event(self, kind: str, timeout: float = DEADLINE_S) -> dict[str, Any]:
        """The first event of this type (``CALL_ESTABLISHED``, ``CALL_CLOSED``...)."""
        return self._wait(lambda m: m.get("event") and m.get("type") == kind,
                          f"{kind} event", timeout)

    def events(self) -> list[str]:
        """The types of every event received so far, in order."""
        with self._lock:
            return [str(m.get("type")) for m in self._messages if m.get("event")]

    # --- the phone --------------------------------------------------------------------

    def dial(self, uri: str) -> None:
        """Place a call (the answer comes as events)."""
        self.command("dial", uri)

    def send_digits(self, digits: str) -> None:
        """Press keys in the current call: RFC 4733 telephone-events."""
        self.command("sndcode", digits)

    def hangup(self) -> None:
        """Hang up the current call."""
        self.command("hangup")
