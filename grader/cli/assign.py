"""`python -m grader assign [--out DIR] [--solution]`: write the student files (or the solution versions)."""

from pathlib import Path

from grader.cli.options import LANGUAGE
from grader.errors import ExitCode


def add_parser(commands):
    assign = commands.add_parser("assign", parents=[LANGUAGE], help="write the student files (.py stub and notebook)")
    # No default here: write_assignments picks assignments/, or solutions/ with --solution.
    assign.add_argument(
        "--out", type=Path, metavar="DIR", help="folder (default: assignments/, or solutions/ with --solution)"
    )
    assign.add_argument(
        "--solution",
        action="store_true",
        help="write the solution versions instead, for instructors (never into assignments/)",
    )
    assign.set_defaults(run=run)


def run(args):
    """The paths written, one a line; an AssignmentError (the file and line to fix, or the folder refused)
    goes up to main."""
    from grader.assignment import write_assignments  # noqa: PLC0415 -- torch: when the command runs (--help loads none of it)

    for path in write_assignments(out=args.out, solution=args.solution):
        print(path)
    return ExitCode.OK
