"""Fill Moodle's offline grading worksheet, and write the feedback-files zip that Moodle's upload reads.

The worksheet (Assignment > View all submissions > "Download grading worksheet") is filled in place:
every column and row kept as downloaded (headers in the downloader's language, `Participant N` ids,
the byte-order mark and delimiter), with, for each matched row, `Grade` (the score scaled to that row's
`Maximum Grade`, 2 decimals, never above it), `Last modified (grade)` and `Feedback comments` (where the
worksheet has that column). The date is the worksheet's own where it has one: Moodle skips a row whose
grade changed in Moodle after that date (more than 60 s after), which is what protects a grade given in
Moodle after the download; only where the worksheet has none ("-": no grade yet) is it now. A grade
already in the worksheet that a different one replaces is said, row by row, in the warnings.
Moodle's import needs the three exact headers `Identifier`, `Grade`, `Last modified (grade)` (English);
facts and sources in lms-formats.md, section 4.

Rows are matched by participant id (the number in `Identifier` = the number in the download's
`Full Name_<id>_assignsubmission_file` folder). A group submission (`<group name>_<group id>`) is matched
by the worksheet's `Group` column: each member's row gets the group's grade.

The feedback zip holds `<Full name>_<participant id>_assignfeedback_file_<file>` entries (names with
no `_`, as Moodle's importer splits on it): a plain-text report per student and, where the batch wrote
one, the student's feedback page (`OUT/feedback/<student>.html`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.inputs.regular_files import UnreadableFile, read_regular
from grader.outputs.class_summary import neutralise_cell

from ..feedback import FOLDER as FEEDBACK_PAGES
from . import GradebookError
from .graded import Graded, feedback_text, load_results, scaled, summary_comment
from .sheet import Sheet, format_points, parse_number, read_sheet

IDENTIFIER, GRADE, LAST_MODIFIED = "Identifier", "Grade", "Last modified (grade)"
MAXIMUM = ("Maximum Grade", "Maximum grade")
FULL_NAME, GROUP, FEEDBACK = "Full name", "Group", "Feedback comments"
FEEDBACK_FILE = "optimkit-feedback.txt"
FEEDBACK_PAGE = "optimkit-feedback.html"  # the student's feedback page, where the batch wrote one
MAX_PAGE_BYTES = 16 * 2**20
_PARTICIPANT = re.compile(r"\s*Participant\s+(\d+)\s*")
_NUMBER_OR_DASH = re.compile(r"-?|[-+]?\d[\d.,]*")  # Moodle's "-" for "never", and numbers: not formulas
_FEEDBACK_NAME = re.compile(r"[^/\\\x00]+")


@dataclass
class Worksheet:
    sheet: Sheet
    columns: dict[str, int]
    participants: dict[str, int]  # participant id -> row index
    groups: dict[str, list[str]]  # group name -> participant ids (rows holding it in the Group column)

    def cell(self, row: int, name: str) -> str:
        index = self.columns.get(name)
        values = self.sheet.rows[row]
        return values[index] if index is not None and index < len(values) else ""

    def set(self, row: int, name: str, value: str) -> None:
        values = self.sheet.rows[row]
        index = self.columns[name]
        values.extend([""] * (index + 1 - len(values)))
        values[index] = value

    def full_name(self, participant: str) -> str:
        row = self.participants.get(participant)
        return self.cell(row, FULL_NAME).strip() if row is not None else ""


def read_worksheet(path: Path | str) -> Worksheet:
    """Moodle's grading worksheet, its columns found by their exact (English) header text."""
    sheet = read_sheet(path, "--worksheet")
    header = [cell.strip() for cell in sheet.rows[0]]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(name, index)
    for name in MAXIMUM:
        if name in columns:
            columns.setdefault("maximum", columns[name])
    lacking = [name for name in (IDENTIFIER, GRADE, LAST_MODIFIED) if name not in columns]
    if lacking:
        raise GradebookError(
            f"--worksheet {path}: no {', '.join(lacking)} column (found: {', '.join(header[:8])}); "
            "Moodle's import needs these English headers: download the worksheet again with "
            "English as your language"
        )
    worksheet = Worksheet(sheet=sheet, columns=columns, participants={}, groups={})
    for row in range(1, len(sheet.rows)):
        match = _PARTICIPANT.fullmatch(worksheet.cell(row, IDENTIFIER))
        if not match:
            continue
        if match[1] in worksheet.participants:
            raise GradebookError(f"--worksheet {path}: Participant {match[1]} is on two rows")
        worksheet.participants[match[1]] = row
        group = worksheet.cell(row, GROUP).strip()
        if group:
            worksheet.groups.setdefault(group, []).append(match[1])
    return worksheet


def is_group_name(name: str, number: str, worksheet: Worksheet) -> bool:
    """True when a download named `<name>_<number>` is a group's: `name` is a group of the worksheet,
    and not the name of the participant whose id is `number` (Moodle names a group's folder
    `<group>_<group id>`, a student's `<full name>_<participant id>`)."""
    return name in worksheet.groups and worksheet.full_name(number) != name


def is_group(graded: Graded, worksheet: Worksheet) -> bool:
    """A group submission: discovery said so, or the worksheet says its name is a group's."""
    return graded.group or is_group_name(graded.name, graded.lms_id, worksheet)


@dataclass
class Outcome:
    sheet: Sheet
    feedback: dict[str, list[tuple[str, bytes]]]
    names: dict[str, str]
    filled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def fill(out: Path | str, worksheet_path: Path | str, missing: str = "blank", now: datetime | None = None) -> Outcome:
    """The worksheet filled from the batch results in `out`, and the feedback files per participant."""
    if missing not in ("blank", "zero"):
        raise GradebookError(f"--missing {missing!r}: expected blank or zero")
    worksheet = read_worksheet(worksheet_path)
    if "maximum" not in worksheet.columns:
        raise GradebookError(f"--worksheet {worksheet_path}: no Maximum Grade column to scale the grades to")
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    results = load_results(out)
    outcome = Outcome(sheet=worksheet.sheet, feedback={}, names={})
    if FEEDBACK not in worksheet.columns:
        outcome.warnings.append(
            f"the worksheet has no {FEEDBACK} column (feedback comments are off in Moodle): "
            "grades only, the report goes in the feedback zip"
        )

    assigned: dict[str, Graded] = {}  # participant id -> result
    graded: Graded | None  # each result below; then each participant's, if any
    for graded in results:
        if graded.layout != "moodle" or not graded.lms_id.isdigit():
            outcome.unmatched.append(
                f"{graded.student} ({graded.path.name}): not from a Moodle download ({graded.layout})"
            )
            continue
        if is_group(graded, worksheet):
            # The worksheet's Group column, else the members discovery read (from a worksheet saved with the download).
            targets = worksheet.groups.get(graded.name) or [
                str(member.get("id")) for member in graded.members if str(member.get("id")) in worksheet.participants
            ]
            if not targets:
                outcome.unmatched.append(f"{graded.student}: group {graded.name!r} has no member in the worksheet")
        else:
            targets = [graded.lms_id] if graded.lms_id in worksheet.participants else []
            if not targets:
                outcome.unmatched.append(f"{graded.student}: Participant {graded.lms_id} is not in the worksheet")
        for participant in targets:
            if participant in assigned:
                raise GradebookError(
                    f"two results for Participant {participant}: {assigned[participant].path} and "
                    f"{graded.path}; remove the stale one (or grade into a fresh --out) and run again"
                )
            assigned[participant] = graded

    for participant, row in worksheet.participants.items():
        full_name = worksheet.full_name(participant)
        label = f"{full_name} (Participant {participant})" if full_name else f"Participant {participant}"
        graded = assigned.get(participant)
        maximum_text = worksheet.cell(row, "maximum")
        maximum = parse_number(maximum_text)
        if graded is None or not graded.graded:
            outcome.missing.append(f"{label}: {graded.why_not() if graded else 'no submission'}")
            if missing == "zero" and maximum is not None:
                _set_grade(worksheet, row, "0", stamp, label, outcome)
            if graded is not None:
                _add_feedback(outcome, worksheet, participant, graded)
            continue
        if maximum is None or maximum <= 0:
            outcome.missing.append(
                f"{label}: Maximum Grade {maximum_text!r} is not a number of points (a scale?); left as it was"
            )
            continue
        if worksheet.cell(row, "Grade can be changed").strip().lower() == "no":
            outcome.warnings.append(f"{label}: Moodle says the grade cannot be changed (locked); Moodle will skip it")
        decimal_comma = "," in maximum_text and "." not in maximum_text
        _set_grade(worksheet, row, format_points(scaled(graded, maximum), decimal_comma), stamp, label, outcome)
        if FEEDBACK in worksheet.columns:
            worksheet.set(row, FEEDBACK, neutralise_cell(summary_comment(graded)))
        outcome.filled.append(label)
        _add_feedback(outcome, worksheet, participant, graded)
    # Every cell a spreadsheet could take for a formula (names come from Moodle's users), made inert.
    for values in worksheet.sheet.rows[1:]:
        for index, value in enumerate(values):
            if index != worksheet.columns[GRADE] and not _NUMBER_OR_DASH.fullmatch(value.strip()):
                values[index] = neutralise_cell(value)
    return outcome


def _set_grade(worksheet, row, grade, stamp, label, outcome):
    """Write `grade` into the row; the worksheet's own date stays where it has one (see the docstring)."""
    before = worksheet.cell(row, GRADE).strip()
    if before not in ("", "-") and parse_number(before) != parse_number(grade):
        outcome.warnings.append(f"{label}: the worksheet's grade {before} is replaced by {grade}")
    worksheet.set(row, GRADE, grade)
    if not _has_date(worksheet.cell(row, LAST_MODIFIED)):
        worksheet.set(row, LAST_MODIFIED, stamp)


def _has_date(text):
    """Whether a `Last modified (grade)` cell holds a date (Moodle writes "-" where there is none)."""
    return bool(re.search(r"\d", text))


def _add_feedback(outcome, worksheet, participant, graded):
    files = [(FEEDBACK_FILE, feedback_text(graded).encode("utf-8"))]
    page = graded.path.parent.parent / FEEDBACK_PAGES / f"{graded.student}.html"  # written by the batch
    try:
        files.append((FEEDBACK_PAGE, read_regular(page, MAX_PAGE_BYTES)))
    except (UnreadableFile, OSError):
        pass  # a batch run with --no-feedback, or from before the pages: the text report alone
    outcome.feedback[participant] = files
    outcome.names[participant] = worksheet.full_name(participant)


def feedback_entry(participant: str, full_name: str, file_name: str) -> str:
    """The zip entry Moodle's feedback-files import reads: `<name>_<participant>_assignfeedback_file_<file>`.

    The name part holds no `_` (Moodle splits the entry on `_`, and its own downloads use spaces),
    no path separator, nothing a file system refuses; an empty name becomes `Participant`."""
    if not participant.isdigit():
        raise ValueError(f"participant id {participant!r}: expected digits")
    if not _FEEDBACK_NAME.fullmatch(file_name) or file_name.startswith((".", "~")):
        raise ValueError(
            f"feedback file name {file_name!r}: expected a plain file name (Moodle ignores names starting with . or ~)"
        )
    # Letters of any script, digits, spaces, `.`, `'` and `-` only: `_` splits, and `| : * ?` are not
    # file names on every system that may extract the zip.
    name = " ".join(re.sub(r"[^\w .'-]|_", " ", full_name).split()) or "Participant"
    return f"{name}_{participant}_assignfeedback_file_{file_name}"


def feedback_zip(files: dict[str, list[tuple[str, bytes]]], names: dict[str, str] | None = None) -> bytes:
    """The feedback-files zip for Moodle's "Upload multiple feedback files in a zip".

    `files` maps a participant id to its files, [(file name, bytes)] (a text report now; an HTML page
    can be added per student the same way); `names` maps a participant id to the full name shown in
    the entry (Moodle matches on the id alone). Entries are sorted, so the same input gives the same zip.
    """
    names = names or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        written = set()
        for participant in sorted(files, key=lambda key: (len(key), key)):
            for file_name, data in files[participant]:
                entry = feedback_entry(participant, names.get(participant, ""), file_name)
                if entry in written:
                    raise ValueError(f"two feedback files named {file_name!r} for participant {participant}")
                written.add(entry)
                info = zipfile.ZipInfo(entry, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
    return buffer.getvalue()
