"""The same file gets the same diagnostics whatever Python's string hashing seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Option keys under a prompt mapping (its "options:" line deleted): two sub-errors tie,
# and jsonschema's order of them followed PYTHONHASHSEED.
PROMPT_WITH_OPTION_KEYS = (REPO / "menus" / "small-office.yaml").read_text().replace(
    '''    prompt: >-
      Thank you for calling Harbor Dental. We are closed right now. To leave a message,
      press 1. For dental emergencies, press 9 to reach the on-call dentist.
    options:
      "1": {voicemail: office}''', '''    prompt:
      en-US: Closed.
      "1": {voicemail: office}''')


def test_a_tie_between_schema_errors_is_reported_the_same_under_every_hash_seed(
        tmp_path: Path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text(PROMPT_WITH_OPTION_KEYS)
    outputs = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        done = subprocess.run(
            [sys.executable, "-c", "from attendant.cli import main; main()", "validate",
             str(menu)], capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 1, done.stderr
        outputs.add(done.stdout + done.stderr)
    assert len(outputs) == 1, outputs
    assert "menu.yaml:39:12: error: menus.closed.prompt.1 is" in outputs.pop()
