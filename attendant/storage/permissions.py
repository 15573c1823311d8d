"""Keep the data folder private: recordings, caller numbers and call logs are personal data.

``attendant serve`` sets the process umask to :data:`PRIVATE_UMASK` before it creates
anything, so every folder it makes is 0700 and every file 0600 (SQLite, WAV, JSON
lines, status.json, prompts), readable by the account that runs it only.
:func:`exposed` finds what an older version, an admin or a restored backup left open
to other accounts; ``serve`` logs it at start and ``attendant doctor`` prints it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Group and others get nothing.
PRIVATE_UMASK = 0o077
#: At most this many exposed paths are named (a folder of 10,000 WAVs needs one hint).
MAX_NAMED = 5


def make_private() -> None:
    """Set the process umask so that what it creates is for its own account only."""
    os.umask(PRIVATE_UMASK)


def exposed(root: Path) -> list[str]:
    """Lines naming the data folder and what in it others can read, with the fix.

    Empty when ``root`` is missing or private. Symbolic links are not followed.
    """
    try:
        top = root.lstat()
    except OSError:
        return []
    found: list[tuple[Path, int]] = []
    if top.st_mode & 0o077:
        found.append((root, top.st_mode))
    if stat.S_ISDIR(top.st_mode) and not found:
        # The folder itself is closed: nothing in it can be reached by others anyway.
        return []
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append((path, mode))
    if not found:
        return []
    named = [f"{path} (mode {stat.S_IMODE(mode):04o})" for path, mode in found[:MAX_NAMED]]
    more = len(found) - len(named)
    return [f"readable by other accounts: {', '.join(named)}"
            + (f" and {more} more" if more else ""),
            f"fix: chmod -R go-rwx {root}"]
