"""The data folder is private: the umask serve sets, and what doctor reports as exposed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from attendant.cli import main
from attendant.storage.permissions import exposed


def test_a_private_folder_reports_nothing_even_with_open_files_inside(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    (data / "calls.jsonl").write_text("{}\n")
    (data / "calls.jsonl").chmod(0o644)
    assert exposed(data) == []  # nobody else can get past the folder
    assert exposed(tmp_path / "missing") == []


def test_an_open_folder_is_named_with_what_is_open_and_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "messages" / "office").mkdir(parents=True)
    data.chmod(0o755)
    (data / "messages").chmod(0o700)
    (data / "messages" / "office").chmod(0o700)
    wav = data / "messages" / "office" / "20260314-092653-1.wav"
    wav.write_bytes(b"RIFF")
    wav.chmod(0o644)
    lines = exposed(data)
    assert lines[0].startswith(f"readable by other accounts: {data} (mode 0755), {wav} "
                               "(mode 0644)")
    assert lines[1] == f"fix: chmod -R go-rwx {data}"


def test_doctor_warns_about_an_exposed_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    data.chmod(0o755)
    result = CliRunner().invoke(main, ["doctor", "--data", str(data)])
    assert f"WARNING: data folder {data}: readable by other accounts" in result.output
    assert f"fix: chmod -R go-rwx {data}" in result.output
    data.chmod(0o700)
    result = CliRunner().invoke(main, ["doctor", "--data", str(data)])
    assert f"data folder {data}: private" in result.output


def test_the_private_umask_makes_folders_0700_and_files_0600(tmp_path: Path) -> None:
    # In a child process: the umask is process-wide and must not leak into other tests.
    code = ("import os, sqlite3, sys\n"
            "from pathlib import Path\n"
            "from attendant.storage.permissions import make_private\n"
            "make_private()\n"
            "root = Path(sys.argv[1]) / 'data'\n"
            "(root / 'messages').mkdir(parents=True)\n"
            "(root / 'status.json').write_text('{}')\n"
            "sqlite3.connect(root / 'calls.sqlite3').execute('CREATE TABLE t (x)')\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "data").rglob("*")}
    assert modes == {"messages": 0o700, "status.json": 0o600, "calls.sqlite3": 0o600}
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
