"""A tiny pcap writer for RFC 4733 telephone-event RTP packets, for SIPp's play_pcap_audio.

Each test writes its own file per digit sequence: SIPp replays a pcap as it is
(SSRC, sequence numbers, timestamps), so replaying one file twice in a call
repeats the same event and the receiver rightly drops the repeat.
"""

from __future__ import annotations

import math
import random
import struct
from pathlib import Path

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PACKET_MS = 20
SAMPLES_PER_PACKET = 160  # 8 kHz


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(payload: bytes, sport: int, dport: int) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    ether = b"\x00" * 12 + b"\x08\x00"
    return ether + ip + udp


def rtp_events(digits: str, payload_type: int = 101, ssrc: int | None = None,
               gap_ms: int = 300, duration_ms: int = 200) -> list[tuple[float, bytes]]:
    """(seconds, RTP packet) pairs: each digit as a start, updates and 3 end packets; a
    comma is a one-second pause."""
    ssrc = random.getrandbits(32) if ssrc is None else ssrc
    seq = random.getrandbits(15)
    timestamp = random.getrandbits(31)
    at = 0.0
    packets: list[tuple[float, bytes]] = []
    for digit in digits:
        if digit == ",":  # a pause of a second, as phone dialers write it
            at += 1.0
            timestamp += 1000 // PACKET_MS * SAMPLES_PER_PACKET
            continue
        event = EVENTS[digit]
        steps = max(1, duration_ms // PACKET_MS)
        for i in range(steps + 3):
            end = i >= steps
            duration = min(i + 1, steps) * SAMPLES_PER_PACKET
            marker = 0x80 if i == 0 else 0
            header = struct.pack("!BBHII", 0x80, marker | payload_type, seq & 0xFFFF,
                                 timestamp & 0xFFFFFFFF, ssrc)
            body = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            packets.append((at, header + body))
            seq += 1
            if not end:
                at += PACKET_MS / 1000
        timestamp += (steps + gap_ms // PACKET_MS) * SAMPLES_PER_PACKET
        at += gap_ms / 1000
    return packets


def write_dtmf_pcap(path: Path, digits: str, payload_type: int = 101) -> Path:
    """Write ``digits`` as RFC 4733 events to a pcap SIPp can play with play_pcap_audio."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for at, packet in rtp_events(digits, payload_type):
        frame = _frame(packet, 6000, 6000)
        sec = int(at)
        usec = round((at - sec) * 1_000_000)
        out += struct.pack("<IIII", 1_700_000_000 + sec, usec, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


def ulaw(sample: int) -> int:
    """One 16-bit linear sample as G.711 mu-law (the PCMU payload)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), clip) + bias
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def write_call_pcap(path: Path, plan: list[str | float], hz: float = 1000.0) -> Path:
    """One RTP stream for SIPp's play_pcap_audio: strings in ``plan`` are digits (RFC 4733,
    ``,`` a 1 s pause), numbers are seconds of a ``hz`` tone in PCMU (payload type 0)."""
    ssrc, seq, timestamp, at = random.getrandbits(32), random.getrandbits(15), 0, 0.0
    packets: list[tuple[float, bytes]] = []
    for item in plan:
        if isinstance(item, str):
            events = rtp_events(item, ssrc=ssrc)
            first = struct.unpack("!I", events[0][1][4:8])[0] if events else 0
            for offset, packet in events:  # renumbered to follow on in this stream; an
                # event keeps one timestamp for all its packets (RFC 4733)
                stamp = timestamp + ((struct.unpack("!I", packet[4:8])[0] - first) & 0xFFFFFFFF)
                header = struct.pack("!BBHII", packet[0], packet[1], seq & 0xFFFF,
                                     stamp & 0xFFFFFFFF, ssrc)
                packets.append((at + offset, header + packet[12:]))
                seq += 1
            # Each digit lasts 0.2 s and a 0.3 s gap, each comma 1 s (rtp_events' defaults).
            span = sum(1.0 if c == "," else 0.5 for c in item)
            at += span
            timestamp += int(span * 8000)
            continue
        for n in range(int(item * 1000 / PACKET_MS)):
            start = n * SAMPLES_PER_PACKET
            payload = bytes(ulaw(int(12000 * math.sin(2 * math.pi * hz * (start + i) / 8000)))
                            for i in range(SAMPLES_PER_PACKET))
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
            packets.append((at, header + payload))
            seq += 1
            timestamp += SAMPLES_PER_PACKET
            at += PACKET_MS / 1000
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for when, packet in packets:
        frame = _frame(packet, 6000, 6000)
        sec = int(when)
        out += struct.pack("<IIII", 1_700_000_000 + sec, round((when - sec) * 1_000_000),
                           len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path
