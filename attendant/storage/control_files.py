"""Reading small files that anyone with access to the data folder may have planted.

The server polls folders such as ``<data>/queue-control/`` for command files.
``Path.read_text`` there would block the SIP worker for ever on a FIFO named
``x.json``, follow a symlink to ``/dev/zero``, or read a file of gigabytes into
memory. :func:`read_control_file` opens without blocking and without following
links, accepts regular files only, and reads at most ``limit`` bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from attendant.errors import AttendantError

#: Command files are a few hundred bytes; anything much larger is not ours.
MAX_CONTROL_BYTES = 64 * 1024


class ControlFileError(AttendantError):
    """A control file cannot be used; the message names it and says why."""


def read_control_file(path: Path, limit: int = MAX_CONTROL_BYTES) -> str:
    """The text of ``path`` if it is a regular file of at most ``limit`` bytes.

    Raises:
        ControlFileError: not a regular file (FIFO, socket, device, folder, symlink),
            too large, not UTF-8, or unreadable.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ControlFileError(f"{path}: a symbolic link, not a command file; "
                                   "skipped") from None
        raise ControlFileError(f"{path}: cannot open: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ControlFileError(f"{path}: not a regular file ({_kind(info.st_mode)}); "
                                   "skipped")
        if info.st_size > limit:
            raise ControlFileError(f"{path}: {info.st_size} bytes, more than the {limit} a "
                                   "command file may have; skipped")
        data = os.read(fd, limit + 1)
    except OSError as exc:
        raise ControlFileError(f"{path}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew between fstat and read
        raise ControlFileError(f"{path}: more than {limit} bytes; skipped")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ControlFileError(f"{path}: not UTF-8 text; skipped") from None


def remove_entry(path: Path) -> None:
    """Remove a control folder entry of any kind but a folder (best effort)."""
    try:
        if not path.is_dir() or path.is_symlink():
            path.unlink()
    except OSError:
        pass


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


__all__ = ["MAX_CONTROL_BYTES", "ControlFileError", "read_control_file", "remove_entry"]


def read_state_file(path: Path) -> str | None:
    """The text of a small state file the server and the CLI share (overrides, mailbox
    PINs), None when there is none; ControlFileError when one is there but unusable."""
    try:
        return read_control_file(path)
    except ControlFileError:
        if not path.exists() and not path.is_symlink():
            return None
        raise
