"""The plain, Canvas and Moodle layouts: each top-level item of the folder recognised on its own by its name.

The names each LMS writes are described in grader.inputs.discover's docstring. Trusted side: it lists
folders and reads a Moodle grading worksheet saved beside the downloads, nothing else.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from grader.inputs.submission import SUFFIXES
from grader.outputs.gradebook import GradebookError
from grader.outputs.gradebook.moodle import FULL_NAME, is_group_name, read_worksheet

from .entries import Member, _children, _files_below, _Found, _sanitise

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
    gradable: list[Path] = []
    others: list[Path] = []
    problem: str | None = None
    files_submitted = False
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
    groups: dict[str, tuple] = {}  # group name -> (its worksheet, participant ids)
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
