"""Find a submission and read it into chunks of source (one per notebook cell), without running it.

Only text and JSON are read here; parsing and running the code happen in the sandboxed worker.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .regular_files import UnreadableFile, read_regular

SUFFIXES = (".py", ".ipynb")
MAX_BYTES = 5 * 1024 * 1024  # a real submission is a few kB; a larger one is refused, not parsed


class SubmissionError(Exception):
    """The submission could not be read at all (missing, ambiguous, too large, not a notebook)."""


@dataclass(frozen=True)
class Submission:
    """A submission read from disk: where it came from, its bytes' hash, and its code as chunks."""

    path: Path
    sha256: str
    chunks: tuple  # ({"label", "filename", "source"}, ...): a chunk per notebook code cell, or one

    @property
    def name(self):
        return self.path.name


def locate(path):
    """The one .py or .ipynb file at `path` (a file, or a folder holding exactly one)."""
    path = Path(path)
    if path.is_dir():
        # Not `is_file()`: a pipe or a device named optimizers.py is the submission, refused by `read`.
        found = sorted(child for child in path.iterdir() if child.suffix in SUFFIXES and not child.is_dir()
                       and not child.name.startswith("."))
        if len(found) != 1:
            listing = ", ".join(child.name for child in found) or "none"
            raise SubmissionError(f"{path} must hold exactly one .py or .ipynb file; it holds {listing}")
        return found[0]
    if not os.path.lexists(path):
        raise SubmissionError(f"{path}: no such file")
    if path.suffix not in SUFFIXES:
        raise SubmissionError(f"{path}: a submission is a .py file or an .ipynb notebook, not {path.suffix or 'no suffix'}")
    return path


def read(path):
    """Read the submission at `path` (see `locate`) into a Submission."""
    path = locate(path)
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".py":
        chunks = ({"label": path.name, "filename": f"<submission {path.name}>", "source": text},)
    else:
        chunks = tuple(_notebook_chunks(path.name, text))
    return Submission(path=path, sha256=digest, chunks=chunks)


def read_bytes(path):
    """The bytes of the submission file at `path`: a regular file (never a pipe, a device, a socket or a
    link), of at most MAX_BYTES, of which no more is read; SubmissionError otherwise."""
    try:
        return read_regular(path, MAX_BYTES)
    except UnreadableFile as error:
        raise SubmissionError(str(error)) from None


def _notebook_chunks(name, text):
    import nbformat  # only for notebooks: it costs a tenth of a second to import

    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several types for malformed JSON and schemas
        raise SubmissionError(f"{name} is not a readable notebook: {type(error).__name__}: {error}") from None

    number = 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        yield {"label": f"{name}, code cell {number}", "filename": f"<submission {name} cell {number}>",
               "source": strip_magics(source)}


def strip_magics(source):
    """A notebook cell without IPython syntax: `%magic`, `!shell`, `?help` lines; `%%` cells are dropped."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(("%", "!", "?")) or (stripped.endswith("?") and not stripped.startswith("#")):
            lines.append("")  # keep the numbering, so errors point at the right line
        else:
            lines.append(line)
    return "\n".join(lines)
