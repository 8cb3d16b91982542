"""Fill one assignment's column of a gradebook exported from Canvas, as a file Canvas imports as is.

Canvas's importer (lib/gradebook_importer.rb; facts in lms-formats.md, section 3) wants the header
`Student, ID, [SIS User ID], [SIS Login ID], ..., Section`, then assignment columns named
`Title (assignment id)`; any other column would become a new assignment. So the file written holds the
export's student-information columns (up to `Section`), the one assignment column, the
"Points Possible" row if the export has one, and a row per student of the export, matched by the Canvas
user id (column `ID`) that the batch read from the submission names.

Scores are scaled to the assignment's points possible when the export gives them (else the rubric's
points are written as they are), with 2 decimals, never above the maximum. A student of the gradebook
without a gradable result (no submission, an error such as a text entry, a timeout) is left blank,
or given 0 with `missing="zero"`, and listed; so is every result that matches no student (an anonymous
download has no user id to match).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.outputs.class_summary import neutralise_cell

from . import GradebookError
from .graded import Graded, load_results, scaled
from .sheet import Sheet, format_points, parse_number, read_sheet

_TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.S)  # Canvas's own Assignment.title_and_id
_NOT_ASSIGNMENTS = re.compile(r"(Current|Final|Unposted|Override) (Score|Points|Grade|Status)")


@dataclass
class Outcome:
    """What a fill did, for the command's report (the file itself is `sheet`)."""

    sheet: Sheet
    column: str
    maximum: float | None
    filled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # gradebook students without a gradable result
    unmatched: list[str] = field(default_factory=list)  # results that match no student of the gradebook
    warnings: list[str] = field(default_factory=list)


def fill(out: Path | str, export: Path | str, assignment: str, missing: str = "blank") -> Outcome:
    """The import file for `assignment` from the Canvas export at `export` and the batch results in `out`."""
    if missing not in ("blank", "zero"):
        raise GradebookError(f"--missing {missing!r}: expected blank or zero")
    sheet = read_sheet(export, "--export")
    header = sheet.rows[0]
    if len(header) < 4 or "Student" not in header[0] or "ID" not in header[1]:
        raise GradebookError(
            f"--export {export}: not a Canvas gradebook export (its first cells should be "
            f"Student, ID, ..., Section; found {', '.join(header[:4])})"
        )
    section = next((index for index in range(2, len(header)) if "Section" in header[index]), None)
    if section is None:
        raise GradebookError(f"--export {export}: no Section column; export the gradebook from Canvas again")
    column = _assignment_column(header, section, assignment, export)

    points_row = next((row for row in sheet.rows[1:] if row and "Points Possible" in row[0]), None)
    maximum = parse_number(points_row[column]) if points_row and column < len(points_row) else None
    if points_row and column < len(points_row) and "read only" in points_row[column]:
        raise GradebookError(f"--export {export}: column {header[column]!r} is read-only in Canvas")

    results = load_results(out)
    by_user = _by_user(results)
    outcome = Outcome(sheet=Sheet(rows=[], delimiter=",", bom=False), column=header[column], maximum=maximum)
    if maximum is None:
        outcome.warnings.append(
            "the export has no points possible for this assignment: the rubric's points are written as they are"
        )
    keep = list(range(section + 1)) + [column]
    rows = [[_text(header[index]) for index in keep]]
    if points_row:
        rows.append([_text(_cell(points_row, index)) for index in keep])
    ids = Counter(_cell(row, 1).strip() for row in sheet.rows[1:] if row is not points_row)
    seen = set()
    for row in sheet.rows[1:]:
        if row is points_row:
            continue
        user = _cell(row, 1).strip()
        if not user.isdigit():  # Canvas's "Muted" / "Manual posting" rows, or a blank: nothing to import
            continue
        if ids[user] > 1 and user not in seen:
            outcome.warnings.append(f"ID {user} is on {ids[user]} rows of the export; each gets the same grade")
        seen.add(user)
        cells = [_text(_cell(row, index)) if index != 1 else user for index in keep[:-1]]
        who = f"{_cell(row, 0).strip()} (ID {user})"
        graded = by_user.get(user)
        if graded is not None and graded.graded:
            value = scaled(graded, maximum) if maximum is not None else min(graded.score, graded.max_score)
            cells.append(format_points(value))
            outcome.filled.append(who)
        else:
            reason = graded.why_not() if graded is not None else "no submission"
            outcome.missing.append(f"{who}: {reason}")
            cells.append("0" if missing == "zero" else "")
        rows.append(cells)
    for user, graded in sorted(by_user.items()):
        if user not in seen:
            outcome.unmatched.append(f"{graded.student} ({graded.path.name}): Canvas user {user} is not in the export")
    for graded in results:
        if graded.layout == "canvas" and not graded.lms_id.isdigit():
            outcome.unmatched.append(
                f"{graded.student} ({graded.path.name}): an anonymous download has no user "
                "id; download the submissions again once anonymous grading is off"
            )
        elif graded.layout != "canvas":
            outcome.unmatched.append(
                f"{graded.student} ({graded.path.name}): not from a Canvas download ({graded.layout})"
            )
    outcome.sheet = Sheet(rows=rows, delimiter=",", bom=False)
    return outcome


def _assignment_column(header: list[str], section: int, wanted: str, export) -> int:
    """The index of the assignment's column: `Title (id)` exactly, the title, or the id alone."""
    candidates = {}
    for index in range(section + 1, len(header)):
        match = _TITLE_AND_ID.match(header[index].strip())
        if match and not _NOT_ASSIGNMENTS.search(header[index]):
            candidates[index] = (match[1].strip(), match[2])
    wanted = wanted.strip()
    exact = [index for index in candidates if header[index].strip() == wanted]
    if exact:
        return exact[0]
    found = [index for index, (title, number) in candidates.items() if wanted in (title, number)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise GradebookError(
            f"--assignment {wanted!r} names {len(found)} columns: "
            f"{', '.join(header[index] for index in found)}; give the whole column name"
        )
    listed = ", ".join(header[index] for index in candidates) or "none"
    raise GradebookError(f"--assignment {wanted!r}: no such assignment column in {export} (columns: {listed})")


def _by_user(results: list[Graded]) -> dict[str, Graded]:
    """Canvas results by user id; two results for one user (a stale file of another run) are refused."""
    by_user: dict[str, Graded] = {}
    for graded in results:
        if graded.layout != "canvas" or not graded.lms_id.isdigit():
            continue
        if graded.lms_id in by_user:
            other = by_user[graded.lms_id]
            raise GradebookError(
                f"two results for Canvas user {graded.lms_id}: {other.path} and {graded.path}; "
                "remove the stale one (or grade into a fresh --out) and run again"
            )
        by_user[graded.lms_id] = graded
    return by_user


def _cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def _text(cell: str) -> str:
    """A text cell as written: never a formula when the teacher opens the file in a spreadsheet."""
    return neutralise_cell(cell)
