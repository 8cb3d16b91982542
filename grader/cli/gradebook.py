"""`python -m grader gradebook canvas|moodle OUT ...`: the batch's grades in the file the LMS imports.

A GradebookError (a file unreadable, not the LMS's format, ambiguous; an output that cannot be written)
goes up to grader.cli.main: one line on stderr, exit status 2 (USAGE_ERROR)."""

from __future__ import annotations

import sys
from pathlib import Path

from grader.errors import ExitCode
from grader.outputs.gradebook import GradebookError


def add_parser(commands) -> None:
    gradebook = commands.add_parser("gradebook", help="fill the gradebook file of Canvas or Moodle from a batch's OUT")
    platforms = gradebook.add_subparsers(dest="platform", required=True, metavar="PLATFORM")

    canvas = platforms.add_parser("canvas", help="fill one assignment's column of a gradebook exported from Canvas")
    canvas.add_argument("out", type=Path, metavar="OUT", help="the batch's --out folder")
    canvas.add_argument(
        "--export",
        type=Path,
        required=True,
        metavar="GRADEBOOK.csv",
        help="the gradebook exported from Canvas (Grades > Export > Export Entire Gradebook)",
    )
    canvas.add_argument(
        "--assignment",
        required=True,
        metavar="TITLE",
        help="the assignment's column: its title, its id, or the whole header 'Title (id)'",
    )
    canvas.add_argument(
        "--out", dest="file", type=Path, metavar="FILE", help="the file to write (default OUT/canvas_grades.csv)"
    )
    canvas.add_argument(
        "--missing",
        choices=("blank", "zero"),
        default="blank",
        help="students without a graded submission: left blank (default) or given 0",
    )
    canvas.set_defaults(run=_canvas)

    moodle = platforms.add_parser("moodle", help="fill Moodle's grading worksheet and write the feedback-files zip")
    moodle.add_argument("out", type=Path, metavar="OUT", help="the batch's --out folder")
    moodle.add_argument(
        "--worksheet",
        type=Path,
        required=True,
        metavar="WORKSHEET.csv",
        help="the grading worksheet downloaded from the assignment (Grading action)",
    )
    moodle.add_argument(
        "--out",
        dest="file",
        type=Path,
        metavar="FILE",
        help="the filled worksheet to write (default OUT/moodle_grades.csv)",
    )
    moodle.add_argument(
        "--feedback-zip",
        type=Path,
        metavar="FILE",
        help="the feedback-files zip to write (default OUT/moodle_feedback.zip)",
    )
    moodle.add_argument(
        "--missing",
        choices=("blank", "zero"),
        default="blank",
        help="students without a graded submission: left as they are (default) or given 0",
    )
    moodle.set_defaults(run=_moodle)


def _report(outcome, written, stream=sys.stderr):
    for line in outcome.warnings:
        print(f"warning: {line}", file=stream)
    if outcome.missing:
        print(
            f"{len(outcome.missing)} student(s) without a graded submission (left blank unless --missing zero):",
            file=stream,
        )
        for line in outcome.missing:
            print(f"  {line}", file=stream)
    if outcome.unmatched:
        print(f"{len(outcome.unmatched)} result(s) match no student of the gradebook (not written):", file=stream)
        for line in outcome.unmatched:
            print(f"  {line}", file=stream)
    print(f"{len(outcome.filled)} grade(s) filled: {', '.join(str(path) for path in written)}")


def _write(path: Path, data, what: str) -> Path:
    from ..atomic import PRIVATE, write_atomic  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    try:
        return write_atomic(path, data, PRIVATE)
    except OSError as error:
        raise GradebookError(f"{what} {path}: cannot write: {error.strerror or error}") from None


def _canvas(args) -> int:
    from grader.outputs.gradebook import canvas  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    outcome = canvas.fill(args.out, args.export, args.assignment, missing=args.missing)
    path = _write(args.file or args.out / "canvas_grades.csv", outcome.sheet.text(), "--out")
    _report(outcome, [path])
    return ExitCode.OK


def _moodle(args) -> int:
    from grader.outputs.gradebook import moodle  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    outcome = moodle.fill(args.out, args.worksheet, missing=args.missing)
    sheet = _write(args.file or args.out / "moodle_grades.csv", outcome.sheet.text(), "--out")
    archive = _write(
        args.feedback_zip or args.out / "moodle_feedback.zip",
        moodle.feedback_zip(outcome.feedback, outcome.names),
        "--feedback-zip",
    )
    _report(outcome, [sheet, archive])
    return ExitCode.OK
