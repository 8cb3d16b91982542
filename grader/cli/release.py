"""`python -m grader release [--out DIR] [--zip]`: write what students receive (no solution inside)."""

from pathlib import Path

from grader.cli.options import LANGUAGE
from grader.errors import ExitCode


def add_parser(commands):
    release = commands.add_parser(
        "release", parents=[LANGUAGE], help="write what students receive: stubs, README, self-check (no solution)"
    )
    release.add_argument("--out", type=Path, default=Path("release"), metavar="DIR", help="folder (default: release/)")
    release.add_argument("--zip", action="store_true", help="also write DIR.zip")
    release.set_defaults(run=run)


def run(args):
    """The paths written, one a line; a ReleaseError (e.g. the bundle would hold a solution) goes up to main."""
    from grader.release import build_release  # noqa: PLC0415 -- torch: when the command runs (--help loads none of it)

    for path in build_release(args.out, make_zip=args.zip):
        print(path)
    return ExitCode.OK
