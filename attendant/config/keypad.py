"""Phone keypad spelling, for dial by name.

Callers spell names with the letters printed on the keys (2=ABC ... 9=WXYZ).
Names are folded to plain ASCII letters first, so "Zoë Ångström" is found by
typing the keys for ZOE or ANGSTROM.
"""

from __future__ import annotations

import unicodedata

_KEYS = {
    "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL",
    "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ",
}
_LETTER_TO_KEY = {letter: key for key, letters in _KEYS.items() for letter in letters}


def fold(name: str) -> str:
    """Upper-case ASCII letters of ``name``, accents removed, everything else dropped."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.upper() if c in _LETTER_TO_KEY)


def spell(name: str) -> str:
    """The keys a caller presses to spell ``name`` ("Smith" -> "76484")."""
    return "".join(_LETTER_TO_KEY[c] for c in fold(name))
