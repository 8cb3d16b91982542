"""Command line: `python -m grader assign|check ...` (also installed as `optimkit`)."""

import argparse
import sys
from pathlib import Path


def _assign(args):
    from .assignment import write_assignments

    for path in write_assignments(out=args.out, solution=args.solution):
        print(path)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assign = commands.add_parser("assign", help="write the student files (.py stub and notebook)")
    assign.add_argument("--out", type=Path, default=Path("assignments"), help="folder (default: assignments/)")
    assign.add_argument(
        "--solution", action="store_true", help="write the solution versions instead (for instructors only)"
    )
    assign.set_defaults(run=_assign)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
