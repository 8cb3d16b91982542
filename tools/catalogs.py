"""The message catalogs, kept current with Babel: `python -m tools.catalogs [update|check]`.

`update` extracts every message marked for translation (`_`, `N_`, `ngettext`, and the extractors below)
from the installed packages' sources, files each under the domain of the folder it comes from, merges
the result into every language's `.po` file (new messages arrive untranslated, messages no longer in the
code are dropped) and compiles each `.po` into the `.mo` file gettext reads at run time. `check` changes
nothing and exits 1 when a catalog is not what `update` would write; tests/test_catalogs.py runs it.

The `.mo` files are committed, so that neither the kit nor a student's release needs Babel; the test
holds that they are exactly what their `.po` files compile to.
"""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from grader import i18n
from tools import extract_docstrings, extract_mistakes

ROOT = Path(__file__).resolve().parents[1]

#: Which domain a source file's messages belong to: the first folder (or file) that holds it, else "verdicts".
DOMAIN_OF_SOURCE = (
    ("grader/explain", "mistakes"),
    ("grader/assignment", "assignment"),
    ("reference", "assignment"),
    ("grader/release", "release"),
    ("grader/outputs/feedback", "feedback"),
)
FALLBACK_DOMAIN = "verdicts"
SOURCES = ("grader", "reference")

KEYWORDS = dict(DEFAULT_KEYWORDS)

#: A message found in a source: (line, message, translator comments). A message is a str, or a
#: (singular, plural) pair from ngettext.
Found = tuple[int, "str | tuple[str, ...]", list[str]]
#: Extractors for messages that are not marked with a keyword (e.g. data declared with a constructor):
#: each takes a source's path relative to ROOT and its text and yields what it finds there.
EXTRACTORS: list[Callable[[str, str], Iterable[Found]]] = [extract_mistakes.messages, extract_docstrings.messages]

#: The header of every catalog. Babel fills in the language, the plural forms and the dates.
PROJECT = "optimkit"
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def _catalog(locale: str | None) -> Catalog:
    return Catalog(
        locale=locale,
        project=PROJECT,
        version="0.1",
        copyright_holder="the optimkit authors",
        last_translator="optimkit",
        language_team=f"optimkit {locale}",
        header_comment="# The messages students read, translated. Kept current by `python -m tools.catalogs update`:\n"
        "# translate every empty msgstr, keep each {placeholder}, use the terms of grader/i18n/glossary.py.",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        fuzzy=False,
    )


def domain_of(relative: str) -> str:
    for prefix, domain in DOMAIN_OF_SOURCE:
        if relative == prefix or relative.startswith(prefix + "/"):
            return domain
    return FALLBACK_DOMAIN


def _python_messages(text: str) -> Iterator[Found]:
    for line, message, comments, _context in extract(
        "python", io.BytesIO(text.encode("utf-8")), keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        yield line, message, comments


def extracted() -> dict[str, Catalog]:
    """Every domain's messages as the code has them now (a template per domain)."""
    templates = {domain: _catalog(None) for domain in i18n.DOMAINS}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            found = list(_python_messages(text))
            for extractor in EXTRACTORS:
                found.extend(extractor(relative, text))
            catalog = templates[domain_of(relative)]
            for line, message, comments in found:
                if not (message[0] if isinstance(message, tuple) else message):
                    continue
                catalog.add(message, locations=[(relative, line)], auto_comments=comments)
    return templates


def po_path(language: str, domain: str) -> Path:
    return i18n.CATALOGS / i18n.locale_of(language) / "LC_MESSAGES" / f"{domain}.po"


def _po_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False, include_lineno=False, ignore_obsolete=True)
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _read(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=i18n.locale_of(language))


def merged(language: str, domain: str, template: Catalog) -> Catalog:
    """The language's catalog of `domain` updated to `template`: translations kept, new ones empty."""
    path = po_path(language, domain)
    catalog = _read(path, language) if path.exists() else _catalog(i18n.locale_of(language))
    # No fuzzy matching: a changed English message must be translated again, not guessed from a neighbour.
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    # The dates change every run; fixed, so that an unchanged catalog is written byte for byte again.
    catalog.revision_date = catalog.creation_date = FIXED_DATE
    return catalog


def stale(templates: dict[str, Catalog] | None = None) -> list[str]:
    """What `update` would change, one line per file; empty when every catalog is current."""
    templates = templates or extracted()
    problems = []
    for language in i18n.LANGUAGES[1:]:
        for domain, template in templates.items():
            path = po_path(language, domain)
            if not path.exists():
                problems.append(f"{path.relative_to(ROOT)} is missing")
                continue
            written = path.read_bytes()
            if _po_text(merged(language, domain, template)) != written:
                problems.append(f"{path.relative_to(ROOT)} is not current with the code's messages")
            mo = path.with_suffix(".mo")
            if not mo.exists() or mo.read_bytes() != _mo_bytes(_read(path, language)):
                problems.append(f"{mo.relative_to(ROOT)} is not what its .po compiles to")
    return problems


def update() -> None:
    templates = extracted()
    for language in i18n.LANGUAGES[1:]:
        for domain, template in templates.items():
            path = po_path(language, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_po_text(merged(language, domain, template)))
            path.with_suffix(".mo").write_bytes(_mo_bytes(_read(path, language)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "update"
    if command == "update":
        update()
        return 0
    if command == "check":
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python -m tools.catalogs update", file=sys.stderr)
        return 1 if problems else 0
    print("usage: python -m tools.catalogs [update|check]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
