"""Command line: `python -m grader assign|check ...` (also installed as `optimkit`)."""

import argparse
import os
import sys
from pathlib import Path

from grader import defaults
from grader.cli import platforms as platform_commands
from grader.cli.gradebook import add_parser as add_gradebook


def _assign(args):
    from grader.assignment import AssignmentError, write_assignments  # noqa: PLC0415 -- torch: when it runs

    try:
        written = write_assignments(out=args.out, solution=args.solution)
    except AssignmentError as error:  # names the file and line to fix, or the folder refused
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _check(args):
    classroom = None
    if args.classroom is not None:  # where the result goes is checked before anything is graded
        from grader.platforms import github_classroom  # noqa: PLC0415 -- only with --classroom

        try:
            classroom = github_classroom.output_file(args.classroom)
        except github_classroom.ClassroomError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    # Start the warm worker before this process imports torch, so the two imports overlap.
    from grader.sandbox.launcher import Zygote  # noqa: PLC0415 -- the zygote starts before torch is imported

    with Zygote() as zygote:
        from grader import grading  # noqa: PLC0415 -- torch: once the zygote has started
        from grader.judge import rubric  # noqa: PLC0415 -- torch: once the zygote has started
        from grader.outputs import results  # noqa: PLC0415 -- once the zygote has started
        from grader.outputs import terminal as report  # noqa: PLC0415 -- once the zygote has started

        try:
            chosen = rubric.load(args.rubric, enable=("nesterov",) if args.nesterov else ())
        except rubric.RubricError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
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
                print(f"error: --classroom: {error}", file=sys.stderr)
                return 2
        try:
            print(report.render(graded, chosen.title), flush=True)
        except BrokenPipeError:
            pass
        return 0 if graded.score == graded.max_score else 1


def _batch(args):
    try:
        return _run_batch(args)
    except KeyboardInterrupt:  # also while importing: Ctrl-C is one line, whenever it comes
        print("\ninterrupted: every result written so far is complete; run the same command to resume", file=sys.stderr)
        return 130


def _run_batch(args):
    from grader.batch import runner  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    settings = runner.Settings(
        jobs=args.jobs,
        budget=args.timeout,
        force=args.force,
        seed=args.seed,
        rubric_path=args.rubric,
        feedback=not args.no_feedback,
    )
    try:
        if args.scheduler is not None:  # Dask is imported only here
            try:
                from grader.batch import cluster  # noqa: PLC0415 -- Dask only for --scheduler
            except ImportError as error:
                print(
                    f"error: --scheduler needs Dask distributed: pip install 'optimkit[cluster]' ({error})",
                    file=sys.stderr,
                )
                return 2
            entries, results = cluster.run(
                args.submissions, args.out, settings, args.scheduler, progress=runner.Progress()
            )
        else:
            entries, results = runner.run(args.submissions, args.out, settings, progress=runner.Progress())
    except runner.BatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from grader.batch import classroom  # noqa: PLC0415 -- matplotlib (0.5 s): once the class is graded

    print(classroom.write_outputs(entries, results, args.out))
    if not args.no_feedback:
        from grader.outputs.feedback import FOLDER, class_page  # noqa: PLC0415 -- numpy, torch: only with feedback

        print(f"feedback pages in {args.out / FOLDER}, class page {class_page.write(entries, results, args.out)}")
    return 0


def _release(args):
    from grader.release import ReleaseError, build_release  # noqa: PLC0415 -- torch: when the command runs

    try:
        written = build_release(args.out, make_zip=args.zip)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assign = commands.add_parser("assign", help="write the student files (.py stub and notebook)")
    # No default here: write_assignments picks assignments/, or solutions/ with --solution.
    assign.add_argument(
        "--out", type=Path, metavar="DIR", help="folder (default: assignments/, or solutions/ with --solution)"
    )
    assign.add_argument(
        "--solution",
        action="store_true",
        help="write the solution versions instead, for instructors (never into assignments/)",
    )
    assign.set_defaults(run=_assign)

    check = commands.add_parser("check", help="grade one submission (.py, .ipynb, or a folder holding one)")
    check.add_argument("submission", type=Path, help="the student's .py or .ipynb, or a folder holding one")
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the score JSON (Gradescope format) here")
    check.add_argument("--seed", type=int, default=defaults.SEED, help=f"hypothesis seed (default {defaults.SEED})")
    check.add_argument("--rubric", type=Path, default=defaults.RUBRIC, help="a rubric JSON (default: the shipped one)")
    check.add_argument("--nesterov", action="store_true", help="also grade the Nesterov bonus part")
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
    check.set_defaults(run=_check)

    batch = commands.add_parser("batch", help="grade a folder of submissions (plain, Canvas, Moodle or Gradescope)")
    batch.add_argument("submissions", type=Path, help="the folder of submissions (never modified)")
    batch.add_argument("--out", type=Path, required=True, help="where results/, scores.csv, summary.json go")
    batch.add_argument(
        "--jobs",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="submissions graded at once (default: the cores available)",
    )
    batch.add_argument(
        "--timeout",
        type=float,
        default=defaults.BUDGET,
        metavar="SECONDS",
        help=f"time budget per submission (default {defaults.BUDGET:g}); each call also stops after 5 s",
    )
    batch.add_argument("--force", action="store_true", help="regrade even what is already graded")
    batch.add_argument("--seed", type=int, default=defaults.SEED, help=f"hypothesis seed (default {defaults.SEED})")
    batch.add_argument("--rubric", type=Path, default=defaults.RUBRIC, help="a rubric JSON (default: the shipped one)")
    batch.add_argument(
        "--no-feedback",
        action="store_true",
        help="skip the HTML pages (OUT/feedback/<student>.html, OUT/report.html) and their plots",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster: its scheduler's address (tls://HOST:8786), or local:N for N "
        "worker processes here (needs the `cluster` extra; a worker grades one submission per thread)",
    )
    batch.set_defaults(run=_batch)
    release = commands.add_parser(
        "release", help="write what students receive: stubs, README, self-check (no solution)"
    )
    release.add_argument("--out", type=Path, default=Path("release"), metavar="DIR", help="folder (default: release/)")
    release.add_argument("--zip", action="store_true", help="also write DIR.zip")
    release.set_defaults(run=_release)

    add_gradebook(commands)

    platform_commands.add_to(commands)  # gradescope, prairielearn, classroom-workflow
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if not 0 < getattr(args, "timeout", 1) <= defaults.LONGEST_BUDGET:  # nan and inf would disarm every deadline
        parser.error(
            f"--timeout must be a number of seconds above 0 and at most {defaults.LONGEST_BUDGET:g}, got {args.timeout}"
        )
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
