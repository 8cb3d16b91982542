"""Command line: `python -m grader COMMAND ...` (also installed as `optimkit`).

One module per command or family: assign, check, batch, release, gradebook (canvas, moodle), platforms
(gradescope, prairielearn, classroom-workflow); the options several of them share are parent parsers in
options.py. A command returns an ExitCode; an error its user can fix is raised as an OptimkitError
(grader/errors.py) and printed here, once, as one line.
"""

import argparse
import sys

from grader import defaults, i18n
from grader.cli import assign, batch, check, gradebook, platforms, release
from grader.errors import ExitCode, OptimkitError, exit_codes_text

__all__ = ["ExitCode", "build_parser", "main"]


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own, but text written in lines (the exit-status table) keeps its lines."""

    def _fill_text(self, text, width, indent):
        if "\n" not in text:
            return super()._fill_text(text, width, indent)
        return "".join(indent + line for line in text.splitlines(keepends=True))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=__doc__.split("\n")[0],
        epilog=f"exit status:\n{exit_codes_text()}",
        formatter_class=_HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    assign.add_parser(commands)
    check.add_parser(commands)
    batch.add_parser(commands)
    release.add_parser(commands)
    gradebook.add_parser(commands)
    platforms.add_parsers(commands)  # gradescope, prairielearn, classroom-workflow
    return parser


def main(argv=None):
    """Run the command `argv` names (default: sys.argv[1:]); return its exit status (an ExitCode)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if not 0 < getattr(args, "timeout", 1) <= defaults.LONGEST_BUDGET:  # nan and inf would disarm every deadline
        parser.error(
            f"--timeout must be a number of seconds above 0 and at most {defaults.LONGEST_BUDGET:g}, got {args.timeout}"
        )
    if hasattr(args, "lang"):  # one language per process: every text students read is looked up in it
        i18n.set_language(args.lang)
    try:
        return args.run(args)
    except OptimkitError as error:  # the user's to fix: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
