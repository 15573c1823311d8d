"""The prompt-language rule (Prompt.variant, localise): one rule for the engine, the
prompt builder and the checks."""

from __future__ import annotations

import pytest

from attendant.model import Digits, File, Prompt, Text, localise

EN = (Text("Hello"),)
FR = (Text("Bonjour"),)
ANY = (Text("Hi"),)
DE = (Text("Hallo"),)


@pytest.mark.parametrize(("variants", "language", "default", "heard"), [
    ((("en-US", EN), ("fr-FR", FR)), "fr-FR", "en-US", ("fr-FR", "fr-FR", FR)),  # the caller's
    ((("en-US", EN), ("fr-FR", FR)), "de-DE", "en-US", ("en-US", "en-US", EN)),  # the default
    (((None, ANY), ("fr-FR", FR)), "de-DE", "en-US", (None, "en-US", ANY)),  # unmarked, in default
    (((None, ANY), ("fr-FR", FR)), "fr-FR", "en-US", ("fr-FR", "fr-FR", FR)),
    ((("de-DE", DE), ("fr-FR", FR)), "en-GB", "en-US", ("de-DE", "de-DE", DE)),  # the first
    (((None, ANY),), "fr-FR", "fr-FR", (None, "fr-FR", ANY)),
])
def test_a_caller_hears_their_language_then_the_default_then_the_unmarked_then_the_first(
        variants: tuple[tuple[str | None, tuple[Text, ...]], ...], language: str, default: str,
        heard: tuple[str | None, str, tuple[Text, ...]]) -> None:
    assert Prompt("p", variants).variant(language, default) == heard


def test_localise_gives_unmarked_text_and_digits_the_variants_language_only() -> None:
    assert localise(Text("Hi", None, "v1"), "fr-FR") == Text("Hi", "fr-FR", "v1")
    assert localise(Text("Hi", "en-US"), "fr-FR") == Text("Hi", "en-US")
    assert localise(Digits("42"), "fr-FR") == Digits("42", "fr-FR")
    assert localise(File("a.wav"), "fr-FR") == File("a.wav")
