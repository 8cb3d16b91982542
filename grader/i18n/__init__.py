"""The language students read: gettext catalogs, and the one language this process speaks. Trusted side.

English is the source language: every text a student reads is written in English in the code, marked
`_("...")` (or `N_("...")` where it is a constant translated where it is shown), and looked up here in the
catalog of the chosen language, `<locale>/LC_MESSAGES/<domain>.mo` beside this file. The catalogs are split
by area (the domains below) so that each area's translations are kept in a file of their own; a lookup
searches all of them. English needs no catalog: the message itself is the English text.

The language is chosen once per process (`set_language`, from `--lang` of `assign`, `release`, `check`,
`batch` and the platform runners; a release's self-check reads it from the release). Only words change
with it: slugs, JSON field names, tags and scores are the same in every language.

This module uses the standard library only: the release ships it verbatim beside the self-check, with the
compiled catalogs, so students need no Babel.

`tools/catalogs.py` extracts the messages (Babel), updates the `.po` files and compiles the `.mo` files;
tests/test_catalogs.py holds that both are current, complete and keep every placeholder.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
from collections.abc import Iterator
from pathlib import Path

#: The languages students can be taught in, as `--lang` spells them (BCP 47 tags); English first, the default.
LANGUAGES = ("en", "zh-CN")
DEFAULT = "en"

#: The catalogs' areas (gettext domains), each kept in its own .po file per language.
DOMAINS = ("verdicts", "mistakes", "assignment", "release", "feedback")

CATALOGS = Path(__file__).resolve().parent

_language = DEFAULT


def locale_of(language: str) -> str:
    """The catalog folder's name of a `--lang` tag ("zh-CN" -> "zh_CN"), as gettext spells locales."""
    return language.replace("-", "_")


def check_language(language: str) -> str:
    """`language` if the kit speaks it, else ValueError naming the ones it does."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return language


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogs of `language` chained into one lookup (English: the messages as written)."""
    check_language(language)
    if language == DEFAULT:
        return gettext.NullTranslations()
    chain: gettext.NullTranslations | None = None
    for domain in DOMAINS:
        # fallback=True: an area with no catalog yet falls through to the next, and finally to English.
        catalog = gettext.translation(domain, CATALOGS, languages=[locale_of(language)], fallback=True)
        if chain is None:
            chain = catalog
        else:
            chain.add_fallback(catalog)
    assert chain is not None
    return chain


def set_language(language: str) -> None:
    """Speak `language` from now on in this process (and in the processes it forks)."""
    global _language
    translations(language)  # an unknown language fails here, before anything is written
    _language = language


def language() -> str:
    """The language this process speaks."""
    return _language


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak `language` within the block, then the language spoken before."""
    before = _language
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


def _(message: str) -> str:
    """`message` in the language this process speaks."""
    return translations(_language).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of the message that fits `count`, in the language this process speaks."""
    return translations(_language).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown, with `_(constant)`."""
    return message
