"""Find a submission and read it into chunks of source (one per notebook cell), without running it.

Only text and JSON are read here (notebook cells are rewritten by IPython's reader, never run); running
the code happens in the sandboxed worker.
"""

import codecs
import hashlib
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .regular_files import UnreadableFile, read_regular

# The kit's catalogs (grader/i18n); copied into the release's self-check (release/contents.py SHARED_FILES),
# this module finds the bundle's own grader/i18n/ beside it.
try:
    from ..i18n import _
except ImportError:
    from .i18n import _  # type: ignore[import-not-found,no-redef]


SUFFIXES = (".py", ".ipynb")
MAX_BYTES = 5 * 1024 * 1024  # a real submission is a few kB; a larger one is refused, not parsed


class SubmissionError(Exception):
    """The submission could not be read at all (missing, ambiguous, too large, not a notebook)."""


class ReadingTimeout(SubmissionError):
    """Reading the submission (rewriting its notebook cells) went past the submission's deadline."""


@dataclass(frozen=True)
class Submission:
    """A submission read from disk: where it came from, its bytes' hash, and its code as chunks."""

    path: Path
    sha256: str
    chunks: tuple  # ({"label", "filename", "source"}, ...): a chunk per notebook code cell, or one
    notes: tuple = ()  # what the student should know about how the code was read (notebooks)

    @property
    def name(self):
        return self.path.name


def locate(path):
    """The one .py or .ipynb file at `path` (a file, or a folder holding exactly one)."""
    path = Path(path)
    if path.is_dir():
        # Not `is_file()`: a pipe or a device named optimizers.py is the submission, refused by `read`.
        found = sorted(
            child
            for child in path.iterdir()
            if child.suffix in SUFFIXES and not child.is_dir() and not child.name.startswith(".")
        )
        if len(found) != 1:
            listing = ", ".join(child.name for child in found) or _("none")
            raise SubmissionError(
                _("{path} must hold exactly one .py or .ipynb file; it holds {listing}").format(
                    path=path, listing=listing
                )
            )
        return found[0]
    if not os.path.lexists(path):
        raise SubmissionError(_("{path}: no such file").format(path=path))
    if path.suffix not in SUFFIXES:
        raise SubmissionError(
            _("{path}: a submission is a .py file or an .ipynb notebook, not {suffix}").format(
                path=path, suffix=path.suffix or _("no suffix")
            )
        )
    return path


def read(path, deadline=None):
    """Read the submission at `path` (see `locate`) into a Submission.

    deadline: a time.monotonic() by which reading must be done (the submission's budget counts from the
    moment its file is opened); ReadingTimeout past it.
    """
    path = locate(path)
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix == ".py":
        source = python_source(path.name, data)
        chunks, notes = ({"label": path.name, "filename": f"<submission {path.name}>", "source": source},), ()
    else:
        from . import notebook  # noqa: PLC0415 -- nbformat and IPython's reader (0.5 s) only for notebooks

        try:
            chunks, notes = notebook.code_cells(path.name, data, deadline=deadline)
        except notebook.OutOfTime as error:
            raise ReadingTimeout(str(error)) from None
        except notebook.NotebookError as error:
            raise SubmissionError(str(error)) from None
    return Submission(path=path, sha256=digest, chunks=chunks, notes=notes)


def read_bytes(path):
    """The bytes of the submission file at `path`: a regular file (never a pipe, a device, a socket or a
    link), of at most MAX_BYTES, of which no more is read; SubmissionError otherwise."""
    try:
        return read_regular(path, MAX_BYTES)
    except UnreadableFile as error:
        raise SubmissionError(str(error)) from None


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def python_source(name, data):
    """The text of the Python file `name` holding `data`, decoded as Python decodes a module: a UTF-8 BOM
    or a PEP 263 `# -*- coding: ... -*-` line names the encoding, else UTF-8; \r\n and \r end lines as \n."""
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise SubmissionError(
                _(
                    '{name} is saved as UTF-16 ("Unicode" in Windows Notepad), which Python cannot read as source '
                    "code; save it as UTF-8"
                ).format(name=name)
            ) from None
        if data.startswith(codecs.BOM_UTF8):
            raise SubmissionError(
                _(
                    "{name} starts with UTF-8's byte-order mark but its coding line names another encoding, so "
                    "Python refuses it; remove the coding line"
                ).format(name=name)
            ) from None
        _decode(name, data, "utf-8")  # a first line that is not UTF-8 fails here, naming its byte
        raise SubmissionError(
            _(
                "{name}: Python cannot read this file ({error}); save it as UTF-8, or name its encoding in a "
                "first-line comment such as `# -*- coding: gbk -*-`"
            ).format(name=name, error=str(error)[:300])
        ) from None
    return io.IncrementalNewlineDecoder(None, translate=True).decode(_decode(name, data, encoding), final=True)


def _decode(name, data, encoding):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
        where = _("{name}, line {line}: byte {byte} (byte {column} of the line)").format(
            name=name,
            line=len(_LINE_BREAK.findall(before)) + 1,
            byte=f"0x{data[error.start]:02x}",
            column=error.start - line_start + 1,
        )
        if encoding in ("utf-8", "utf-8-sig"):
            raise SubmissionError(
                _(
                    "{where} is not UTF-8, and no `# -*- coding: ... -*-` line names another encoding, so Python "
                    "refuses the whole file; save it as UTF-8, or name its encoding in a first-line comment such as "
                    "`# -*- coding: gbk -*-`"
                ).format(where=where)
            ) from None
        raise SubmissionError(
            _(
                "{where} is not valid {encoding}, the encoding its coding line names, so Python refuses the whole "
                "file; save it in that encoding, or as UTF-8"
            ).format(where=where, encoding=encoding)
        ) from None
    except (LookupError, UnicodeError) as error:  # a codec that is not for text (rot13), or refuses all (undefined)
        raise SubmissionError(
            _("{name}: Python cannot read this file ({error}); save it as UTF-8").format(
                name=name, error=str(error)[:300]
            )
        ) from None
