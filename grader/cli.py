"""Command line: `python -m grader assign|check ...` (also installed as `optimkit`)."""

import argparse
import sys
from pathlib import Path

from . import defaults


def _assign(args):
    from .assignment import AssignmentError, write_assignments

    try:
        written = write_assignments(out=args.out, solution=args.solution)
    except AssignmentError as error:  # names the file and line to fix, or the folder refused
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _check(args):
    # Start the warm worker before this process imports torch, so the two imports overlap.
    from .worker.launch import Zygote

    with Zygote() as zygote:
        from . import grading, report, rubric, results

        try:
            chosen = rubric.load(args.rubric, enable=("nesterov",) if args.nesterov else ())
        except rubric.RubricError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        graded = grading.grade(args.submission, zygote=zygote, rubric=chosen, seed=args.seed)
        print(report.render(graded, chosen.title))
        if args.json:
            results.write_json(graded, args.json)
        return 0 if graded.score == graded.max_score else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assign = commands.add_parser("assign", help="write the student files (.py stub and notebook)")
    # No default here: write_assignments picks assignments/, or solutions/ with --solution.
    assign.add_argument(
        "--out", type=Path, metavar="DIR", help="folder (default: assignments/, or solutions/ with --solution)"
    )
    assign.add_argument(
        "--solution", action="store_true",
        help="write the solution versions instead, for instructors (never into assignments/)",
    )
    assign.set_defaults(run=_assign)

    check = commands.add_parser("check", help="grade one submission (.py, .ipynb, or a folder holding one)")
    check.add_argument("submission", type=Path, help="the student's .py or .ipynb, or a folder holding one")
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the score JSON (Gradescope format) here")
    check.add_argument("--seed", type=int, default=defaults.SEED, help=f"hypothesis seed (default {defaults.SEED})")
    check.add_argument("--rubric", type=Path, default=defaults.RUBRIC, help="a rubric JSON (default: the shipped one)")
    check.add_argument("--nesterov", action="store_true", help="also grade the Nesterov bonus part")
    check.set_defaults(run=_check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
