"""From what was found to the class's entries: safe, unique ids and the one gradable file per student.

The rules for ids and for the gradable file are in grader.inputs.discover's docstring. Trusted side: it lists
folders and stats files, never opens a student's file.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.errors import OptimkitError
from grader.inputs.regular_files import refusal
from grader.inputs.submission import MAX_BYTES, SUFFIXES

LAYOUTS = ("plain", "canvas", "moodle", "gradescope")


MAX_ID_LENGTH = 100


_IGNORED = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints"})


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)


_LISTED = 5  # non-gradable files named in a "no .py or .ipynb file" message


class DiscoveryError(OptimkitError, ValueError):
    """The folder as a whole cannot be read (e.g. a Gradescope export with unreadable metadata)."""


@dataclass(frozen=True)
class Member:
    """One person of a group submission, as the LMS names them."""

    name: str
    id: str = ""
    """The LMS's id for the person: Gradescope's sid (student id), Moodle's participant id; "" if none."""
    email: str = ""


@dataclass(frozen=True)
class Entry:
    """One student of the class, as found in the submissions folder."""

    student: str
    """The id: unique in the class and a safe file name; `OUT/results/<student>.json`, the CSV's key."""
    name: str
    """A display name (the LMS's name for the student, or the id itself for a plain folder)."""
    path: Path | None
    """The one `.py` or `.ipynb` file to grade, or None when `error` says why there is none."""
    error: str | None
    """Why this student cannot be graded ("folder holds 2 gradable files: a.py, b.ipynb"), or None."""
    layout: str
    """Where the entry came from: "plain", "canvas", "moodle" or "gradescope"."""
    lms_id: str = ""
    """What the LMS's gradebook matches on: Canvas's user id (`4821`, or `anon_k3Lq9` for an anonymous
    download), Moodle's participant id (or group id for a group submission), Gradescope's `submission_<id>`."""
    members: tuple[Member, ...] = ()
    """The people of a group submission (Gradescope's submitters; Moodle's group members when the export
    says who they are); empty for a submission of one."""
    group: bool = False
    """True when the submission is a group's (Moodle's `{group}_{groupid}` naming, several Gradescope submitters)."""


@dataclass(frozen=True)
class _Found:
    """A student before ids are made unique: the base id and every file that belongs to them."""

    base_id: str
    name: str
    layout: str
    source: str  # the item's path in the folder: orders equal ids deterministically
    gradable: tuple[Path, ...] = ()
    others: tuple[Path, ...] = ()
    root: Path | None = None  # file names in messages are relative to it
    holder: str = "submission"  # "folder" or "submission", for the messages
    problem: str | None = None  # an error known before counting files
    lms_id: str = ""
    members: tuple = ()
    group: bool = False


def safe_id(text: str) -> str:
    """`text` as an id: a safe file name, never empty (see the module docstring for the rules)."""
    cleaned = _sanitise(text)
    if not cleaned:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return f"student-{digest}"
    return cleaned


def _sanitise(text: str) -> str:
    """Fold accents, replace each run of other characters by `_`; "" when nothing is left."""
    # Cut first: NFKD can make one character eighteen (U+FDFA), and only MAX_ID_LENGTH are kept.
    folded = "".join(
        char for char in unicodedata.normalize("NFKD", text[: 4 * MAX_ID_LENGTH]) if not unicodedata.combining(char)
    )
    cleaned = _UNSAFE.sub("_", folded).lstrip(".").rstrip(".")  # a trailing dot vanishes on Windows
    cleaned = cleaned[:MAX_ID_LENGTH].rstrip(".")
    if cleaned.strip("_-") == "":
        return ""  # only substitutes left: the name said nothing readable
    if cleaned.split(".")[0].lower() in _WINDOWS_DEVICES:
        cleaned = cleaned[: MAX_ID_LENGTH - 1] + "_"
    return cleaned


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _IGNORED and not path.is_symlink()


def _children(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir() if _visible(child))


def _files_below(top: Path) -> tuple[tuple[Path, ...], tuple[Path, ...], str | None]:
    """(gradable files, other files, a read problem or None) at any depth below `top`."""
    gradable: list[Path] = []
    others: list[Path] = []
    problems: list[OSError] = []
    try:
        for root, folders, files in os.walk(top, onerror=problems.append):
            here = Path(root)
            folders[:] = sorted(name for name in folders if _visible(here / name))  # prunes the walk
            for name in sorted(files):
                path = here / name
                if _visible(path):
                    (gradable if path.suffix in SUFFIXES else others).append(path)
    except RecursionError:  # os.walk recurses once per folder level (Python 3.11): a thousand levels
        return (), (), f"its folders are nested more than {sys.getrecursionlimit() // 2} levels deep"
    problem = None
    if problems:
        first = problems[0]
        where = Path(first.filename).relative_to(top.parent) if first.filename else top.name
        problem = f"cannot read {where}: {first.strerror or first}"
    return tuple(gradable), tuple(others), problem


def _pick(found: _Found) -> tuple[Path | None, str | None]:
    """The one gradable file of a student, or an error that lists what there is instead."""
    if found.problem:
        return None, found.problem

    def shown(paths):
        return [path.relative_to(found.root).as_posix() if found.root else path.name for path in paths]

    if len(found.gradable) == 1:
        (path,) = found.gradable
        try:
            reason = refusal(os.lstat(path), MAX_BYTES)  # a pipe or a device is never opened, not even later
        except OSError as error:
            reason = f"cannot be read: {error.strerror or error}"
        if reason:
            return None, f"{shown(found.gradable)[0]} {reason}"
        return path, None
    if found.gradable:
        names = shown(found.gradable)
        more = f", and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
        listing = ", ".join(_shortened(name) for name in names[:_LISTED])
        return None, f"{found.holder} holds {len(found.gradable)} gradable files: {listing}{more}"
    message = f"{found.holder} holds no .py or .ipynb file"
    if found.others:
        names = shown(found.others)
        more = f", and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
        message += f" (only {', '.join(_shortened(name) for name in names[:_LISTED])}{more})"
    return None, message


def _shortened(name, limit=120):
    """A path as a message names it: folders nested 4 kB deep are cut, keeping the file's own name."""
    return name if len(name) <= limit else name[:40] + "…" + name[-(limit - 41) :]


def _unique(found: list[_Found]) -> list[Entry]:
    """Entries with ids unique ignoring case: later duplicates, by path, get `-2`, `-3`..., sorted by id."""
    ordered = sorted(
        ((safe_id(item.base_id), item) for item in found), key=lambda pair: (pair[0].casefold(), pair[1].source)
    )
    taken = {base.casefold() for base, _ in ordered}  # a numbered id must not take another's own id
    kept: set[str] = set()
    next_number: dict[str, int] = {}  # next_number: where the search for a base's next free number resumes
    entries = []
    for base, item in ordered:
        student = base
        if student.casefold() in kept:
            number = next_number.get(base.casefold(), 2)
            while (student := _numbered(base, number)).casefold() in taken:
                number += 1
            next_number[base.casefold()] = number + 1
            taken.add(student.casefold())
        kept.add(student.casefold())
        path, error = _pick(item)
        entries.append(
            Entry(
                student=student,
                name=_readable(item.name),
                path=path,
                error=error,
                layout=item.layout,
                lms_id=item.lms_id,
                members=item.members,
                group=item.group,
            )
        )
    return sorted(entries, key=lambda entry: (entry.student.casefold(), entry.student))


def _readable(name: str) -> str:
    """A display name as text any file can hold: bytes of a file name that are not UTF-8 (an archive
    unpacked from another code page) become U+FFFD, as a file manager shows them."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return name.encode("utf-8", "replace").decode("utf-8")


def _numbered(base: str, number: int) -> str:
    suffix = f"-{number}"
    return base[: MAX_ID_LENGTH - len(suffix)] + suffix
