"""What a command returns (ExitCode), and OptimkitError: the one base of every error a user can cause.

`ExitCode` names the statuses `python -m grader ...` (alias `optimkit`) and the platforms' grading runs
end with; docs/exit-codes.md lists them, and so does `python -m grader --help`. `OptimkitError` is the
base of every error whose cause is the person running a command (a command line, a rubric, a folder, a
gradebook or settings file, a release that would give an answer away) rather than a student's code or a
bug: `grader.cli.main` catches it once and prints `error: <message>` as one line on stderr, and the
command ends with the error's `exit_code`.

Not derived from it, on purpose: what a student's submission causes (unreadable file, broken notebook,
a call that fails in the sandbox, a failed check) becomes a verdict in the score JSON, never an exit
status; and grader/inputs' submission, notebook and regular_files are copied verbatim into the student
bundle, which has no `grader.errors` to import. This module imports only the standard library, so that
any layer may raise these errors.
"""

import enum


class ExitCode(enum.IntEnum):
    """The exit statuses, with the values they have always had (scripts and LMS runners test them)."""

    OK = 0
    """The command did what it was asked; `check`: the submission has full marks."""
    POINTS_LOST = 1
    """`check`: the submission was graded (or could not be read) and has less than full marks."""
    GRADER_FAILED = 1  # an alias of POINTS_LOST: the platforms' runners predate this enum and return 1
    """A platform's grading run (Gradescope's run_autograder, PrairieLearn's grade) could not grade; its
    results file says so. An uncaught exception (a bug) also ends a command with 1, with a traceback."""
    USAGE_ERROR = 2
    """A command line argparse refuses, or an OptimkitError: one line on stderr, `error: ...`."""
    INTERRUPTED = 130
    """`batch` stopped by Ctrl-C (128 + SIGINT); every result written so far is complete."""


#: Each exit status's meaning in one line, in the order `--help` and docs/exit-codes.md list them.
MEANINGS = {
    "OK": "done; check: full marks",
    "POINTS_LOST": "check: graded, less than full marks",
    "GRADER_FAILED": "a platform's grading run could not grade",
    "USAGE_ERROR": "a bad command line or input: one line, error: ...",
    "INTERRUPTED": "batch stopped by Ctrl-C; results so far are complete",
}


def exit_codes_text():
    """The exit statuses as lines `  NUMBER  NAME  meaning`, for `--help`'s epilog."""
    width = max(len(name) for name in ExitCode.__members__)
    return "\n".join(
        f"  {int(code):>3}  {name:<{width}}  {MEANINGS[name]}" for name, code in ExitCode.__members__.items()
    )


class OptimkitError(Exception):
    """An error the person running a command caused and can fix: `str(error)` is its one-line message
    (printed as `error: <message>`), `exit_code` the status the command then ends with.

    Subclasses keep their own constructors (and may also derive from ValueError, RuntimeError, ... where
    code catches those); `exit_code` is a class attribute, or given by keyword for one error."""

    exit_code: ExitCode = ExitCode.USAGE_ERROR

    def __init__(self, *args, exit_code=None):
        super().__init__(*args)
        if exit_code is not None:
            self.exit_code = ExitCode(exit_code)


class UsageError(OptimkitError):
    """A command's own refusal that has no error class of its own (an option it cannot act on, an output
    file it cannot write, an optional dependency missing)."""
