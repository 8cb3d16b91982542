"""The message catalogs (grader/i18n): current with the code, complete, faithful to placeholders and terms.

- `python -m tools.catalogs check` finds nothing to do: every message the code marks is in every
  language's .po file, none is left over, and every .mo file is what its .po compiles to;
- every message has a translation in every language, none marked fuzzy;
- a translation keeps the message's placeholders ({name}, {value:.9g}, %s) exactly, so formatting it
  with the English arguments neither fails nor drops a value;
- a message that uses a term of the glossary uses the term's translation;
- at run time, `speaking` looks a message up in the chosen language and English stays as written.
"""

import re
import string

import pytest

babel = pytest.importorskip("babel", reason="Babel (the test extra) extracts and compiles the catalogs")
from babel.messages.pofile import read_po  # noqa: E402

from grader import i18n  # noqa: E402
from grader.i18n.glossary import TERMS  # noqa: E402
from tools import catalogs  # noqa: E402

TRANSLATED = i18n.LANGUAGES[1:]
CATALOG_FILES = [(language, domain) for language in TRANSLATED for domain in i18n.DOMAINS]


def _messages(language, domain):
    """(msgid, msgstr, fuzzy) of every message of one .po file; plural forms as tuples."""
    with catalogs.po_path(language, domain).open("rb") as handle:
        catalog = read_po(handle, locale=i18n.locale_of(language))
    return [(message.id, message.string, message.fuzzy) for message in catalog if message.id]


def _placeholders(text):
    """The format fields of a message: {name:spec} of str.format, and %-conversions, as a sorted list.

    A text that is no format string (the assignment's LaTeX, `\\frac{\\eta}{\\sqrt{G + \\epsilon}}`, is never
    formatted) must keep every innermost brace group instead, so that no formula changes.
    """
    fields = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        parsed = []
        fields += re.findall(r"\{[^{}]*\}", text)
    for _literal, name, spec, conversion in parsed:
        if name is not None:
            fields.append(f"{{{name}!{conversion or ''}:{spec or ''}}}")
    fields += re.findall(r"%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrfgex%]", text)
    return sorted(fields)


def _forms(message):
    return list(message) if isinstance(message, (tuple, list)) else [message]


def test_catalogs_are_current():
    assert catalogs.stale() == [], "run: python -m tools.catalogs update"


@pytest.mark.parametrize(("language", "domain"), CATALOG_FILES)
def test_every_message_is_translated(language, domain):
    missing = [
        msgid
        for msgid, msgstr, fuzzy in _messages(language, domain)
        if fuzzy or not all(form.strip() for form in _forms(msgstr))
    ]
    assert missing == [], f"{len(missing)} messages of {domain} have no {language} translation"


@pytest.mark.parametrize(("language", "domain"), CATALOG_FILES)
def test_translations_keep_placeholders(language, domain):
    for msgid, msgstr, _fuzzy in _messages(language, domain):
        wanted = _placeholders(_forms(msgid)[-1])
        for form in _forms(msgstr):
            if form:
                assert _placeholders(form) == wanted, f"{msgid!r}: {form!r} changes the placeholders"


def _uses(text, term):
    """Does `text` use `term` as words (not inside an identifier or a code span)?"""
    return re.search(rf"(?<![\w`{{.]){re.escape(term)}s?(?![\w`}}(])", text, re.IGNORECASE) is not None


@pytest.mark.parametrize(("language", "domain"), CATALOG_FILES)
def test_translations_use_the_glossary(language, domain):
    terms = TERMS[language]
    for msgid, msgstr, _fuzzy in _messages(language, domain):
        for english, translated in zip(_forms(msgid), _forms(msgstr), strict=False):
            if not translated:
                continue
            for term, wanted in terms.items():
                if _uses(english, term):
                    assert wanted in translated, f"{english!r} uses {term!r}: its translation should use {wanted!r}"


def test_glossary_check_can_fail():
    assert _uses("Multiply by the learning rate.", "learning rate")
    assert not _uses("return gradient_x unchanged", "gradient")
    assert not _uses("`momentum` is a name", "momentum")
    assert not _uses("keep what self.momentum(...) returns", "momentum")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="zh-CN"):
        i18n.set_language("fr")


@pytest.mark.parametrize("language", TRANSLATED)
def test_messages_are_looked_up_in_the_language_spoken(language):
    """A translated message of each catalog comes back translated while speaking, and in English after."""
    looked_up = 0
    for domain in i18n.DOMAINS:
        translated = [(msgid, msgstr) for msgid, msgstr, _ in _messages(language, domain) if isinstance(msgid, str)]
        for msgid, msgstr in translated[:3]:
            with i18n.speaking(language):
                assert i18n._(msgid) == msgstr
            assert i18n._(msgid) == msgid
            looked_up += 1
    assert looked_up, f"no {language} message was found to look up"
    assert i18n.language() == i18n.DEFAULT
