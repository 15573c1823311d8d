"""Reading, checking and repairing WAV headers left incomplete by a recorder.

pjmedia's WAV writer (behind pjsua2's ``AudioMediaRecorder``) writes a header
whose RIFF and ``data`` sizes are zero when recording starts, and fills them in
only when the recorder is destroyed, a moment after the call ends. If the
process dies first, or the disk fills, the audio is all there but the header
says the file is empty or lies about its length; most players then refuse it.

:func:`inspect` walks the RIFF chunks and works out what the sizes should be;
:func:`repair` writes the two corrected 32-bit sizes in place with ``struct``
and fsyncs. Only header bytes are ever rewritten: audio is never dropped, and
a trailing partial sample frame is left after the declared data, not cut off.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from attendant.storage._common import StorageError

#: Format tags we can measure: PCM, IEEE float, A-law, mu-law, WAVE_FORMAT_EXTENSIBLE.
KNOWN_FORMATS = frozenset({1, 3, 6, 7, 0xFFFE})
_CHUNK = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")


class WavError(StorageError):
    """The file is not a WAV file whose header can be understood or repaired."""


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What a WAV header says, after any repair :func:`inspect` found necessary."""

    format_tag: int
    channels: int
    sample_rate: int
    byte_rate: int
    block_align: int
    bits_per_sample: int
    data_offset: int
    data_size: int
    riff_size: int
    file_size: int
    #: True when the sizes on disk differ from ``data_size``/``riff_size`` above.
    needs_repair: bool

    @property
    def duration(self) -> float:
        """Seconds of audio in the data chunk."""
        return self.data_size / self.byte_rate


def _looks_like_chunk(header: bytes, room: int) -> bool:
    """Whether 8 bytes after a data chunk read as another chunk (a LIST trailer, say)."""
    if len(header) < _CHUNK.size:
        return False
    ident, size = _CHUNK.unpack(header)
    return all(32 <= c < 127 for c in ident) and size <= room


def inspect(path: Path) -> WavInfo:
    """Read ``path``'s header and work out the correct RIFF and data sizes.

    Raises:
        WavError: not RIFF/WAVE, no ``fmt `` or ``data`` chunk, or a format we cannot
            measure. The message says which and where.
    """
    with path.open("rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            raise WavError(f"{path}: not a RIFF/WAVE file ({file_size} bytes, starts with "
                           f"{head[:12]!r})")
        riff_size = struct.unpack_from("<I", head, 4)[0]
        fmt: tuple[int, ...] | None = None
        pos = 12
        while True:
            f.seek(pos)
            header = f.read(_CHUNK.size)
            if len(header) < _CHUNK.size:
                what = "fmt " if fmt is None else "data"
                raise WavError(f"{path}: no '{what}' chunk before the end of the file "
                               f"({file_size} bytes); the recorder stopped before writing "
                               "its header")
            ident, size = _CHUNK.unpack(header)
            if ident == b"data":
                break
            if ident == b"fmt ":
                body = f.read(size)
                if size < _FMT.size or len(body) < _FMT.size:
                    raise WavError(f"{path}: 'fmt ' chunk at byte {pos} is {size} bytes, "
                                   f"expected at least {_FMT.size}")
                fmt = _FMT.unpack_from(body)
            nxt = pos + _CHUNK.size + size + (size & 1)
            if nxt > file_size:
                raise WavError(f"{path}: chunk {ident!r} at byte {pos} claims {size} bytes, "
                               f"past the end of the {file_size}-byte file")
            pos = nxt
        if fmt is None:
            raise WavError(f"{path}: 'data' chunk at byte {pos} comes before any 'fmt ' chunk")
        data_offset = pos + _CHUNK.size
        declared = size
        after = data_offset + declared + (declared & 1)
        f.seek(min(after, file_size))
        follower = f.read(_CHUNK.size)
    format_tag, channels, rate, byte_rate, block_align, bits = fmt
    if format_tag not in KNOWN_FORMATS or channels < 1 or rate < 1 or byte_rate < 1 \
            or block_align < 1:
        raise WavError(f"{path}: unsupported or broken format (tag {format_tag}, {channels} "
                       f"channel(s), {rate} Hz, {byte_rate} bytes/s, block {block_align})")
    actual = file_size - data_offset
    data_size = declared
    # A declared size is trusted only if it ends exactly at the end of the file or at the
    # start of another chunk. Zero (pjmedia's placeholder) with audio behind it, or a size
    # running past the end (0xFFFFFFFF "streaming" placeholders, a truncated file), is not.
    trusted = declared <= actual and (
        after == file_size or (declared > 0 and _looks_like_chunk(follower, file_size - after))
        or (after == file_size + 1 and declared & 1 == 1))
    if not trusted:
        data_size = actual - actual % block_align
    new_riff = riff_size
    if not trusted or riff_size == 0 or riff_size > file_size - 8:
        new_riff = file_size - 8
    return WavInfo(format_tag, channels, rate, byte_rate, block_align, bits, data_offset,
                   data_size, new_riff, file_size,
                   needs_repair=data_size != declared or new_riff != riff_size)


def repair(path: Path) -> WavInfo:
    """Make ``path``'s RIFF and data sizes match its contents; return the result.

    Rewrites at most 8 header bytes, in place, and fsyncs. A file that needs no
    repair is not opened for writing.

    Raises:
        WavError: see :func:`inspect`.
    """
    info = inspect(path)
    if not info.needs_repair:
        return info
    with path.open("r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", info.riff_size))
        f.seek(info.data_offset - 4)
        f.write(struct.pack("<I", info.data_size))
        f.flush()
        os.fsync(f.fileno())
    return inspect(path)


def header_complete(path: Path) -> bool:
    """Whether the recorder has finalised ``path``: it exists and needs no repair."""
    try:
        return not inspect(path).needs_repair
    except (OSError, WavError):
        return False
