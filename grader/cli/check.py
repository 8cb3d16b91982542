"""`python -m grader check SUBMISSION ...`: grade one submission, print its report, write what was asked."""

from pathlib import Path

from grader import defaults
from grader.cli.options import GRADING, LANGUAGE, NESTEROV
from grader.errors import ExitCode, UsageError


def add_parser(commands):
    check = commands.add_parser(
        "check",
        parents=[GRADING, NESTEROV, LANGUAGE],
        help="grade one submission (.py, .ipynb, or a folder holding one)",
    )
    check.add_argument("submission", type=Path, help="the student's .py or .ipynb, or a folder holding one")
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the score JSON (Gradescope format) here")
    check.add_argument(
        "--timeout",
        type=float,
        default=defaults.BUDGET,
        metavar="SECONDS",
        help=f"time budget for the submission (default {defaults.BUDGET:g}); each call also stops after 5 s",
    )
    check.add_argument(
        "--classroom",
        nargs="?",
        const="",
        metavar="FILE",
        help="also append GitHub Classroom's result (result=<base64>) to FILE (default: $GITHUB_OUTPUT)",
    )
    check.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the feedback page here (one self-contained HTML file with plots)",
    )
    check.set_defaults(run=run)


def run(args):
    """OK for full marks, POINTS_LOST otherwise; a RubricError or ClassroomError goes up to main."""
    classroom = None
    if args.classroom is not None:  # where the result goes is checked before anything is graded
        from grader.platforms import github_classroom  # noqa: PLC0415 -- only with --classroom

        classroom = github_classroom.output_file(args.classroom)
    # Start the warm worker before this process imports torch, so the two imports overlap.
    from grader.sandbox.launcher import Zygote  # noqa: PLC0415 -- the zygote starts before torch is imported

    with Zygote() as zygote:
        from grader import grading  # noqa: PLC0415 -- torch: once the zygote has started
        from grader.judge import rubric  # noqa: PLC0415 -- torch: once the zygote has started
        from grader.outputs import results, terminal  # noqa: PLC0415 -- once the zygote has started

        chosen = rubric.load(args.rubric, enable=("nesterov",) if args.nesterov else ())
        plots = None
        if args.html:
            from grader.outputs.feedback import PlotRuns  # noqa: PLC0415 -- only with --html

            plots = PlotRuns(chosen.parts)
        # In a child process ended a few seconds past --timeout, whatever it is doing: the command always ends
        # and writes its result (grading.grade_bounded).
        graded, plots = grading.grade_bounded(
            args.submission, zygote=zygote, rubric=chosen, seed=args.seed, budget=args.timeout, after=plots
        )
        # The files first: a terminal that is closed (`| head`) or cannot print a character loses no result.
        if args.json:
            results.write_json(graded, args.json)
        if args.html:
            from grader.atomic import write_atomic  # noqa: PLC0415 -- only with --html
            from grader.outputs.feedback import page  # noqa: PLC0415 -- only with --html (numpy, the plots)

            write_atomic(args.html, page.render(graded.to_dict(), plots.runs, Path(graded.submission).stem))
        if classroom is not None:
            from grader.platforms import github_classroom  # noqa: PLC0415 -- only with --classroom

            try:
                github_classroom.write(graded, classroom)
            except OSError as error:
                raise UsageError(f"--classroom: {error}") from None
        try:
            print(terminal.render(graded, chosen.title), flush=True)
        except BrokenPipeError:
            pass
        return ExitCode.OK if graded.score == graded.max_score else ExitCode.POINTS_LOST
