"""Messages of the assignment's instructions for the catalogs: the docstrings students read in the stub.

The stub and the notebook are generated from the reference's docstrings (reference/), which are not
marked `_()`; this reads them from the syntax tree. Its `messages(relative, text)` is one of
tools/catalogs.py's EXTRACTORS.
"""

from collections.abc import Iterator


def messages(relative: str, text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, message, comments) of every docstring students read, declared in the source `text` at `relative`."""
    return iter(())
