"""attendant.pid names a process by pid and start time: reload, stop and serve check both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant.cli import main
from attendant.storage import pidfile

REPO = Path(__file__).resolve().parents[2]
ATTENDANT = [sys.executable, "-c", "from attendant.cli import main; main()"]
#: A stand-in for `attendant serve`: writes its pid file, notes the signals it gets.
FAKE_SERVER = """
import signal, sys, time
from pathlib import Path
from attendant.storage import pidfile
data = Path(sys.argv[1])
def note(signum, frame):
    (data / f"got-{signum}").write_text("")
    if signum == signal.SIGTERM:
        sys.exit(0)
signal.signal(signal.SIGHUP, note)
signal.signal(signal.SIGTERM, note)
pidfile.write(data / pidfile.FILE_NAME)
time.sleep(60)
"""


def _wait_for(check, what: str) -> None:
    for _ in range(300):
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", FAKE_SERVER, str(tmp_path)])
    _wait_for((tmp_path / pidfile.FILE_NAME).exists, "the pid file")
    yield proc
    proc.kill()
    proc.wait(10)


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """Some other process, whose pid a stale pid file happens to hold."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait(10)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_pid_file_names_this_process_by_pid_and_start_time(tmp_path: Path) -> None:
    path = tmp_path / pidfile.FILE_NAME
    pidfile.write(path)
    record = json.loads(path.read_text())
    assert record["pid"] == os.getpid()
    assert record["started"] == pidfile.process_start(os.getpid())
    assert pidfile.running_server(path) == pidfile.Owner(os.getpid())


def test_reload_sends_sighup_to_the_server_that_wrote_the_file(
        tmp_path: Path, server: subprocess.Popen[bytes]) -> None:
    result = run("reload", "--data", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"SIGHUP to {server.pid}" in result.output
    _wait_for((tmp_path / "got-1").exists, "the SIGHUP")


def test_a_stale_pid_file_naming_another_process_is_refused_and_nothing_is_signalled(
        tmp_path: Path, bystander: subprocess.Popen[bytes]) -> None:
    (tmp_path / pidfile.FILE_NAME).write_text(json.dumps(
        {"pid": bystander.pid, "started": "1", "data": str(tmp_path)}))
    for command in ("reload", "stop"):
        result = run(command, "--data", str(tmp_path))
        assert result.exit_code == 1
        assert f"process {bystander.pid} is not the server that wrote" in result.output
        assert "pid was reused" in result.output
    time.sleep(0.2)
    assert bystander.poll() is None, "the bystander was signalled"


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ('{"pid": 999999999, "started": "5"}', "process 999999999 from"),
    ("4242\n", "is not a pid file of this attendant"),
])
def test_no_running_server_is_said_plainly(tmp_path: Path, content: str | None,
                                           message: str) -> None:
    if content is not None:
        (tmp_path / pidfile.FILE_NAME).write_text(content)
    result = run("reload", "--data", str(tmp_path))
    assert result.exit_code == 1
    assert message in result.output


def test_stop_sends_sigterm_and_waits_for_the_exit(
        tmp_path: Path, server: subprocess.Popen[bytes]) -> None:
    stopper = subprocess.Popen([*ATTENDANT, "stop", "--data", str(tmp_path), "--wait", "20"],
                               stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert server.wait(20) == 0  # reaped here, so the stopper sees it gone
    out, _ = stopper.communicate(timeout=30)
    assert stopper.returncode == 0, out
    assert out == f"stop requested (SIGTERM to {server.pid})\nstopped\n"


def test_serve_refuses_a_data_folder_another_live_server_uses(
        tmp_path: Path, server: subprocess.Popen[bytes]) -> None:
    result = subprocess.run([*ATTENDANT, "serve", str(REPO / "menus" / "small-office.yaml"),
                             "--data", str(tmp_path), "--port", "5999"],  # never bound
                            check=False, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 1
    assert f"attendant serve (pid {server.pid}) already uses {tmp_path}" in result.stderr
    assert server.poll() is None
