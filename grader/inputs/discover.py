"""Find the students in a submissions folder: a plain folder, or an LMS export as it was extracted.

`discover(folder)` returns one `Entry` per student: a safe, unique id, a display name, the one `.py` or
`.ipynb` file to grade, or the reason there is none. It only lists folders and reads Gradescope's
metadata (and a Moodle grading worksheet saved beside a Moodle download); it never writes, renames or
runs anything, so the input folder is left exactly as it was.
Hidden files and folders (a leading `.`), `__pycache__`, `.ipynb_checkpoints`, `__MACOSX` (macOS zip
residue) and symbolic links (an extracted archive must not point the grader at files elsewhere) are
ignored everywhere. A student's gradable file must be a regular file of at most 5 MB: a named pipe,
a device or a socket by that name (an extracted tar can hold them), or a larger file, makes that
student an entry with an error, and is never opened (see `grader.inputs.regular_files`).

Layouts
-------
A folder that holds `submission_metadata.yml` is a Gradescope export. Otherwise each top-level item is
recognised on its own, so a plain folder can hold a few LMS-named files or folders too:

plain
    Each `.py` / `.ipynb` file directly in the folder is a student, named by its stem
    (`alice_nguyen.py` -> `alice_nguyen`). Each sub-folder is a student named by the folder
    (`dana/optimizers.py` -> `dana`); its one gradable file is searched for at any depth. Other files at
    the top (`README.md`, `grades.csv`) are ignored.
canvas
    "Download Submissions" writes `{name}_{userid}_{submissionid}_{filename}`, with `LATE_` before the
    user id for a late submission and `-1`, `-2` before the suffix of a repeated file name:
    `smithjane_4821_99017_optimizers.py`, `doejohn_LATE_4822_99018_optimizers-1.ipynb`.
    The id is `{name}_{userid}` (`smithjane_4821`): the user id is what a gradebook import matches on,
    the name keeps it readable. The display name is Canvas's `smithjane`. The name is Canvas's sortable
    name stripped to word characters, in any script (`müllerjosé_4821` -> `mullerjose_4821`; just `4822`
    when nothing of it survives, as for `王小明`). An anonymous download (`anon_k3Lq9_99019_...`, or
    `LATE_anon_...`) is the student `anon_k3Lq9`. A text entry or a website URL (`smithjane_4821_text.html`,
    `..._link.html`) is never graded: a student with only that gets an error entry that says so.
moodle
    "Download all submissions" writes a folder per student and plugin,
    `{Full Name}_{participantid}_assignsubmission_file_/optimizers.py` (and
    `..._assignsubmission_onlinetext_/onlinetext.html`), or, without "in folders", the files themselves
    as `Jane Smith_104233_assignsubmission_file_optimizers.py`. A group submission is named
    `{group name}_{group id}` instead; it is read as a group, with its members, when Moodle's grading
    worksheet (a `.csv` with `Identifier` and `Group` columns) lies in the folder too. Only the file plugin's items are
    searched; a student with online text only gets an error entry. The id is the name, folded to
    lowercase ASCII, and the participant id: `jane_smith_104233` (just `104233` when nothing of the
    name survives, as for `王小明`). The display name is the full name.
gradescope
    "Export Submissions" writes `submission_metadata.yml` and a folder `submission_<id>/` per
    submission. The metadata maps `submission_<id>` to `{":submitters": [{":name": ..., ":sid": ...,
    ":email": ...}], ...}` (Ruby symbols, so every key starts with a colon). The id is the first
    submitter's sid (`20231187`), else the local part of their email (`jane.smith`), else the folder
    name. A group submission is one entry, its display name listing every submitter
    ("Jane Smith, Bob Lee"), its members the submitters (the class outputs give each a row).
    The metadata is read within bounds (see `_read_metadata`): a regular file of at most 32 MB, no YAML
    aliases (a real export has none; a few lines of them can expand to gigabytes), bounded nesting and
    number of values.

Ids
---
Every id is a safe file name (`OUT/results/<student>.json`): ASCII letters, digits, `-`, `_` and `.`,
not starting with `.`, at most 100 characters. Accents are folded (`José` -> `Jose`), every run of
other characters becomes `_`, Windows device names (`con`, `nul`, ...) get a trailing `_`, and a name
with nothing left is replaced by `student-` and a hash of it. Ids are unique ignoring case (a
case-insensitive disk would merge `Alice.json` and `alice.json`): the second of two equal ids, in the
order of the items' paths, becomes `<id>-2`, the third `<id>-3`. The same folder always gives the same
entries, sorted by id.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.inputs.regular_files import UnreadableFile, read_regular, refusal
from grader.inputs.submission import MAX_BYTES, SUFFIXES
from grader.outputs.gradebook import GradebookError
from grader.outputs.gradebook.moodle import FULL_NAME, is_group_name, read_worksheet

__all__ = ["LAYOUTS", "DiscoveryError", "Entry", "Member", "discover", "safe_id"]

LAYOUTS = ("plain", "canvas", "moodle", "gradescope")
GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_ID_LENGTH = 100
# Bounds on the metadata, checked before and while it is parsed. A real export is about 1 kB per
# submission, more with autograder output and resubmissions; parsing costs about 15x its size in memory.
MAX_METADATA_BYTES = 32 * 2**20
MAX_METADATA_DEPTH = 32  # a real export: 8 levels (submission, :history, entry, :results, tests, test, value)
MAX_METADATA_SUBMISSIONS = 20_000
MAX_GROUP = 50  # submitters kept of one submission (Gradescope's groups are a few students)
# Each value costs about 400 bytes once parsed, whatever its length: "[a,a,a,...]" would turn 32 MB into
# 6 GB. A real export has some 30 values per submission, a few hundred more with autograder results.
MAX_METADATA_VALUES = 1_000_000

_IGNORED = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints"})
# Canvas: `\w` is Unicode-aware, as Ruby's [[:word:]] that made the name; non-greedy, so `LATE_` is not the name's.
_CANVAS = re.compile(r"(?P<name>\w+?)_(?:LATE_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<original>.+)")
_CANVAS_ANONYMOUS = re.compile(r"(?:LATE_)?(?P<user>anon_[A-Za-z0-9]+)_(?P<attachment>\d+)_(?P<original>.+)")
# A text entry or a website URL: `{prefix}_text.html`, `{prefix}_link.html`, no attachment id.
_CANVAS_ENTRY = re.compile(
    r"(?:(?P<name>\w+?)_(?:LATE_)?(?P<user>\d+)|(?:LATE_)?(?P<anon>anon_[A-Za-z0-9]+))"
    r"_(?P<kind>text|link)\.html"
)
_MOODLE_FOLDER = re.compile(r"(?P<name>.+)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?")
# The name up to the *first* `_<id>_assignsubmission_<plugin>_`: what follows is the student's own upload
# name, which must never choose the participant (`x_101_assignsubmission_file_a.py` uploaded by 200).
_MOODLE_FILE = re.compile(r"(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<original>.+)")
_GRADESCOPE_FOLDER = re.compile(r"submission_\d+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)
_LISTED = 5  # non-gradable files named in a "no .py or .ipynb file" message


class DiscoveryError(ValueError):
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


def discover(folder: Path | str) -> list[Entry]:
    """Every student in `folder` (plain, Canvas, Moodle or Gradescope layout), sorted by id.

    Raises NotADirectoryError when `folder` is not a folder, and DiscoveryError when a Gradescope
    export's metadata cannot be read. A student without exactly one gradable file is an entry with an
    `error`, never an exception.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder (expected a folder of submissions)")
    # Whatever GRADESCOPE_METADATA is: `_read_metadata` refuses all but a file.
    gradescope = os.path.lexists(folder / GRADESCOPE_METADATA)
    return _unique(_gradescope(folder) if gradescope else _canvas_moodle_plain(folder))


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
    gradable, others, problems = [], [], []
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


def _canvas_moodle_plain(folder: Path) -> list[_Found]:
    """Recognise each top-level item on its own: Moodle folders and files, Canvas files, plain items."""
    found: list[_Found] = []
    canvas: dict[str, list[tuple[Path, re.Match]]] = {}
    moodle: dict[str, list[tuple[Path, re.Match]]] = {}
    for child in _children(folder):
        if child.is_dir():
            match = _MOODLE_FOLDER.fullmatch(child.name)
            if match:
                moodle.setdefault(match["participant"], []).append((child, match))
            else:
                gradable, others, problem = _files_below(child)
                found.append(
                    _Found(
                        child.name,
                        child.name,
                        "plain",
                        child.name,
                        gradable,
                        others,
                        root=child,
                        holder="folder",
                        problem=problem,
                    )
                )
        else:  # a file, or a pipe, a device or a socket by a file's name: `_pick` refuses those
            match = _MOODLE_FILE.fullmatch(child.name)
            if match:
                moodle.setdefault(match["participant"], []).append((child, match))
            elif match := _CANVAS.fullmatch(child.name) or _CANVAS_ANONYMOUS.fullmatch(child.name):
                canvas.setdefault(match["user"], []).append((child, match))
            elif match := _CANVAS_ENTRY.fullmatch(child.name):
                canvas.setdefault(match["user"] or match["anon"], []).append((child, match))
            elif child.suffix in SUFFIXES:
                found.append(_Found(child.stem, child.stem, "plain", child.name, (child,)))
    found += [_canvas_student(items) for items in canvas.values()]
    moodle_found = [_moodle_student(folder, items) for items in moodle.values()]
    found += _moodle_groups(folder, moodle_found) if moodle_found else []
    return found


def _canvas_student(items: list[tuple[Path, re.Match]]) -> _Found:
    """One Canvas user (or anonymous student): every file named with their user id (or anonymous id).

    A text entry or a URL (`_text.html`, `_link.html`) is never graded: a student who submitted only
    that gets an error entry that says so, rather than vanishing from the class.
    """
    user = items[0][1]["user"] or items[0][1]["anon"]
    names = [match["name"] for _, match in items if "name" in match.re.groupindex and match["name"]]
    name = names[0] if names else user  # anonymous: the anonymous id is all there is
    files = [path for path, match in items if "kind" not in match.re.groupindex]
    entries = {match["kind"] for _, match in items if "kind" in match.re.groupindex}
    problem = None
    if not files and entries:
        what = " and ".join(sorted({"text": "a text entry", "link": "a website URL"}[kind] for kind in entries))
        problem = f"submitted {what} on Canvas, not a file: ask for the .py or .ipynb as a file upload"
    slug = "" if user.startswith("anon_") else _sanitise(name).strip("_")  # "øberg" -> "berg", not "_berg"
    return _Found(
        base_id=f"{slug}_{user}" if slug else user,
        name=name,
        layout="canvas",
        source=min(path.name for path, _ in items),
        gradable=tuple(path for path in files if path.suffix in SUFFIXES),
        others=tuple(path for path in files if path.suffix not in SUFFIXES),
        problem=problem,
        lms_id=user,
    )


def _moodle_student(folder: Path, items: list[tuple[Path, re.Match]]) -> _Found:
    """One Moodle participant: their file-plugin folders (searched at any depth) and loose files."""
    first = items[0][1]
    gradable, others, problem, files_submitted = [], [], None, False
    for path, match in items:
        if match["plugin"] != "file":
            continue  # online text and the like: never a gradable file
        files_submitted = True
        if path.is_dir():
            below, rest, problem_here = _files_below(path)
            gradable += below
            others += rest
            problem = problem or problem_here
        else:
            (gradable if path.suffix in SUFFIXES else others).append(path)
    if not files_submitted:
        problem = "submitted online text only, no .py or .ipynb file"
    slug = _sanitise(first["name"].lower())
    return _Found(
        base_id=f"{slug}_{first['participant']}" if slug else first["participant"],
        name=first["name"],
        layout="moodle",
        source=items[0][0].name,
        gradable=tuple(gradable),
        others=tuple(others),
        root=folder,
        problem=problem,
        lms_id=first["participant"],
    )


def _moodle_groups(folder: Path, found: list[_Found]) -> list[_Found]:
    """Moodle's group submissions, told apart by a grading worksheet saved beside the downloads.

    A group's folder (`Team Rocket_77_assignsubmission_file`) is named like a student's: only the
    worksheet's `Group` column says that "Team Rocket" is a group and who is in it. A submission whose
    name is a group there, and not the name of the participant with its number, is that group, with
    its members (full name, participant id). Without a worksheet every item reads as one participant
    (the gradebook command still matches groups by the worksheet it is given).
    """
    worksheets = []
    for child in _children(folder):
        # A student's own upload (`Name_12_assignsubmission_file_x.csv`) is never read as the worksheet:
        # its Group column could make a classmate's submission a group of the student's choosing.
        uploaded = any(
            pattern.fullmatch(child.name) for pattern in (_MOODLE_FILE, _CANVAS, _CANVAS_ANONYMOUS, _CANVAS_ENTRY)
        )
        if child.suffix.lower() == ".csv" and child.is_file() and not uploaded:
            try:
                worksheets.append(read_worksheet(child))
            except GradebookError:
                continue  # not a worksheet: a class list, some notes
    groups = {}
    for worksheet in worksheets:
        for group, participants in worksheet.groups.items():
            groups.setdefault(group, (worksheet, participants))
    if not groups:
        return found
    marked = []
    for item in found:
        if item.name in groups and is_group_name(item.name, item.lms_id, groups[item.name][0]):
            worksheet, participants = groups[item.name]
            members = tuple(
                Member(
                    name=worksheet.cell(worksheet.participants[pid], FULL_NAME).strip() or f"Participant {pid}", id=pid
                )
                for pid in participants
            )
            item = dataclasses.replace(item, group=True, members=members)
        marked.append(item)
    return marked


def _gradescope(folder: Path) -> list[_Found]:
    """One entry per `submission_<id>/` folder, and per metadata entry whose folder is missing."""
    metadata = _read_metadata(folder / GRADESCOPE_METADATA)
    found = []
    folders = {
        child.name: child for child in _children(folder) if child.is_dir() and _GRADESCOPE_FOLDER.fullmatch(child.name)
    }
    listed = {key for key in metadata if isinstance(key, str) and _GRADESCOPE_FOLDER.fullmatch(key)}
    for key in sorted(set(folders) | listed):
        base_id, name, members = _submitters(key, metadata.get(key))
        who = {"lms_id": key, "members": members, "group": len(members) > 1}
        if key not in folders:
            found.append(
                _Found(
                    base_id,
                    name,
                    "gradescope",
                    key,
                    problem=f"listed in {GRADESCOPE_METADATA}, but folder {key}/ is missing",
                    **who,
                )
            )
            continue
        gradable, others, problem = _files_below(folders[key])
        found.append(
            _Found(
                base_id,
                name,
                "gradescope",
                key,
                gradable,
                others,
                root=folders[key],
                holder=f"folder {key}",
                problem=problem,
                **who,
            )
        )
    return found


def _read_metadata(path: Path) -> dict:
    """Gradescope's metadata as a dict; unknown YAML tags (Ruby objects) read as plain values.

    Bounded before anything is parsed: a regular file of at most MAX_METADATA_BYTES; and while it is
    parsed: no alias (`*name`, which a real export never holds, and which could make a small file expand
    to gigabytes: the "billion laughs"), nesting at most MAX_METADATA_DEPTH deep, at most
    MAX_METADATA_VALUES values in all, at most MAX_METADATA_SUBMISSIONS entries.
    """
    try:
        import yaml  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    except ImportError:
        raise DiscoveryError(f"{path}: reading a Gradescope export needs PyYAML (pip install pyyaml)") from None
    try:
        data = read_regular(path, MAX_METADATA_BYTES)
    except UnreadableFile as error:
        raise DiscoveryError(f"{path} {error.reason}") from None
    try:
        metadata = yaml.load(data.decode("utf-8", errors="replace"), Loader=_metadata_loader())
    except yaml.YAMLError as error:
        raise DiscoveryError(f"{path}: not readable YAML: {error}") from None
    except ValueError as error:  # an integer of more digits than Python converts (sys.set_int_max_str_digits)
        raise DiscoveryError(f"{path}: not readable YAML: {error}") from None
    if not isinstance(metadata, dict):
        raise DiscoveryError(
            f"{path}: expected a mapping from submission_<id> to its submitters, got {type(metadata).__name__}"
        )
    if len(metadata) > MAX_METADATA_SUBMISSIONS:
        raise DiscoveryError(
            f"{path}: {len(metadata)} entries, more than the {MAX_METADATA_SUBMISSIONS} "
            "submissions a class export holds"
        )
    return metadata


@functools.cache
def _metadata_loader():
    """A YAML loader built from PyYAML's own parts: libyaml's parser where installed (ten times faster),
    PyYAML's composer with aliases refused and nesting bounded, the safe constructor, tags read as plain."""
    import yaml  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.composer import Composer, ComposerError  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.constructor import SafeConstructor  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.events import AliasEvent  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.resolver import Resolver  # noqa: PLC0415 -- PyYAML only for a Gradescope export

    try:
        from yaml.cyaml import CParser as Parser  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    except ImportError:  # PyYAML built without libyaml
        from yaml.parser import Parser as EventParser  # noqa: PLC0415 -- PyYAML only for a Gradescope export
        from yaml.reader import Reader  # noqa: PLC0415 -- PyYAML only for a Gradescope export
        from yaml.scanner import Scanner  # noqa: PLC0415 -- PyYAML only for a Gradescope export

        class Parser(Reader, Scanner, EventParser):
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                EventParser.__init__(self)

    class BoundedComposer(Composer):
        """PyYAML's composer, refusing what could make the document far larger than the file."""

        depth = values = 0

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):  # raised before the alias is resolved: nothing expands
                raise ComposerError(
                    None,
                    None,
                    "found an alias (*name); aliases are not accepted here, "
                    "since they can expand a small file to gigabytes",
                    self.peek_event().start_mark,
                )
            if self.depth >= MAX_METADATA_DEPTH:
                raise ComposerError(
                    None, None, f"found nesting deeper than {MAX_METADATA_DEPTH} levels", self.peek_event().start_mark
                )
            self.values += 1
            if self.values > MAX_METADATA_VALUES:
                raise ComposerError(
                    None, None, f"found more than {MAX_METADATA_VALUES} values", self.peek_event().start_mark
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    # The composer comes first, so that its methods, not the C parser's own composer, build the nodes.
    class MetadataLoader(BoundedComposer, Parser, SafeConstructor, Resolver):
        def __init__(self, stream):
            Parser.__init__(self, stream)
            BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    def plain(loader, _suffix, node):
        """A tagged node (`!ruby/object:BigDecimal 18:0.1e2`) as its plain value."""
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    MetadataLoader.add_multi_constructor("!", plain)
    return MetadataLoader


def _submitters(key: str, info: object) -> tuple[str, str, tuple[Member, ...]]:
    """(base id, display name, submitters) of a Gradescope submission from its metadata entry (or its
    folder name); every submitter is a Member, so that a group's second member gets a grade too."""
    submitters = info.get(":submitters") if isinstance(info, dict) else None
    people = [person for person in submitters if isinstance(person, dict)] if isinstance(submitters, list) else []

    def field(person, name):
        value = person.get(f":{name}")
        if value is None or isinstance(value, (dict, list)):
            return ""
        try:
            return str(value).strip()
        except ValueError:  # an integer too long to print (sys.get_int_max_str_digits)
            return ""

    if not people:
        return key, key, ()
    if len(people) > MAX_GROUP:  # a Gradescope group has a handful; each member is a row, and maybe a page
        people = people[:MAX_GROUP]
    first = people[0]
    sid, email = field(first, "sid"), field(first, "email")
    base_id = _sanitise(sid) or _sanitise(email.partition("@")[0]) or key
    names = [field(person, "name") or field(person, "sid") or field(person, "email") for person in people]
    members = tuple(
        Member(name=name, id=field(person, "sid"), email=field(person, "email")) for name, person in zip(names, people)
    )
    return base_id, ", ".join(name for name in names if name) or key, members


def _unique(found: list[_Found]) -> list[Entry]:
    """Entries with ids unique ignoring case: later duplicates, by path, get `-2`, `-3`..., sorted by id."""
    ordered = sorted(
        ((safe_id(item.base_id), item) for item in found), key=lambda pair: (pair[0].casefold(), pair[1].source)
    )
    taken = {base.casefold() for base, _ in ordered}  # a numbered id must not take another's own id
    kept, next_number = set(), {}  # next_number: where the search for a base's next free number resumes
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
