"""Phone numbers as people write them, made comparable: ``+33 1 70 00 00 00``, ``01 70 00 00 00``
and ``+33170000000`` are one number.

Menus, trunks and callers write numbers with spaces, dots, dashes and brackets, in
international (``+33…``, ``0033…``) or national form (``0612345678``). Everything that
compares numbers — an attendant's ``answers``, ``external_numbers``, a queue's
``callback_numbers``, the called and calling numbers of a call — goes through
:func:`number` and :func:`prefix` with the configuration's ``country`` (ISO 3166, the
country national numbers belong to), so they meet in E.164 (``+33170000000``). The
parsing is Google's libphonenumber rules (the ``phonenumbers`` package).

A text that is no phone number (a SIP user name such as ``main``, an extension such as
``201`` that no country's plan makes a whole number of) is kept as written.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: What may separate digits in a written number.
_SEPARATORS = re.compile(r"[\s.()/-]")
_WRITTEN_NUMBER = re.compile(r"^\+?[0-9\s.()/-]*[0-9][0-9\s.()/-]*\Z")

__all__ = ["allowed", "known_country", "number", "prefix"]


def known_country(code: str) -> bool:
    """Does libphonenumber know the numbering plan of ``code`` (``FR``, ``US``)?"""
    import phonenumbers  # its metadata loads only for configurations that use numbers

    return code in phonenumbers.SUPPORTED_REGIONS


@lru_cache(maxsize=4096)
def number(text: str, country: str | None = None) -> str:
    """``text`` in E.164 when it is a whole phone number (written any way, national
    numbers read as ``country``'s), its digits when it is written like a number but is
    not a whole one (an extension), else ``text`` unchanged (a SIP user name)."""
    written = text.strip()
    if not _WRITTEN_NUMBER.match(written):
        return text
    digits = _SEPARATORS.sub("", written)
    if country is None and not digits.startswith("+"):
        return digits  # nothing says which country's plan it is in
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat
    from phonenumbers.phonenumberutil import ValidationResult

    try:
        parsed = phonenumbers.parse(written, country)
    except NumberParseException:
        return digits
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return digits  # "201", a local-only "5550100": not a number to dial from elsewhere
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def prefix(text: str, country: str | None = None) -> str | None:
    """A number prefix as written (``+33 6``, ``+33*``, ``06*``, ``0033 6``) in the form
    :func:`number` gives whole numbers (``+336``); None when ``text`` is no prefix."""
    written = _SEPARATORS.sub("", text.strip())
    if written.endswith("*"):
        written = written[:-1]
    if not re.fullmatch(r"\+?[0-9]+", written):
        return None
    if written.startswith("+"):
        return written
    if written.startswith("00"):  # the international call prefix of most of the world
        return "+" + written[2:]
    if country is not None and known_country(country):
        from phonenumbers import PhoneMetadata

        plan = PhoneMetadata.metadata_for_region(country)
        national = plan.national_prefix if plan is not None else None
        if plan is not None and national and written.startswith(national):
            return f"+{plan.country_code}{written[len(national):]}"
    return written


def allowed(called: str, entries: tuple[str, ...]) -> bool:
    """Is ``called`` on an allow-list of whole numbers and prefixes (``+1555*``)?"""
    for entry in entries:
        if entry.endswith("*"):
            if called.startswith(entry[:-1]):
                return True
        elif called == entry:
            return True
    return False
