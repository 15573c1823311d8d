"""Control files are read without blocking, following links or swallowing huge files."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from attendant.storage.control_files import ControlFileError, read_control_file, remove_entry


def test_a_small_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"agent": "maria"}')
    assert read_control_file(path) == '{"agent": "maria"}'


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path: Path) -> None:
    path = tmp_path / "stall.json"
    os.mkfifo(path)
    outcome: list[str] = []

    def read() -> None:
        try:
            read_control_file(path)
        except ControlFileError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert "a FIFO" in outcome[0]
    remove_entry(path)
    assert not path.exists()


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(ControlFileError, match="symbolic link"):
        read_control_file(link)
    remove_entry(link)
    assert not link.is_symlink()
    assert target.exists()


def test_oversized_binary_folders_and_sockets_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 70_000)
    with pytest.raises(ControlFileError, match="more than"):
        read_control_file(big)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ControlFileError, match="UTF-8"):
        read_control_file(binary)
    folder = tmp_path / "dir.json"
    folder.mkdir()
    with pytest.raises(ControlFileError, match="a folder"):
        read_control_file(folder)
    remove_entry(folder)
    assert folder.is_dir()  # never removed: it may hold something
    sock_path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(ControlFileError, match=r"cannot open|a socket"):
            read_control_file(sock_path)
