"""`python -m grader batch SUBMISSIONS --out OUT ...`: grade a folder of submissions, here or on a Dask cluster."""

import os
import sys
from pathlib import Path

from grader import defaults
from grader.cli.options import GRADING, LANGUAGE
from grader.errors import ExitCode, UsageError


def add_parser(commands):
    batch = commands.add_parser(
        "batch", parents=[GRADING, LANGUAGE], help="grade a folder of submissions (plain, Canvas, Moodle or Gradescope)"
    )
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
    batch.set_defaults(run=run)


def run(args):
    """OK, or INTERRUPTED on Ctrl-C; a BatchError (bad folders, a rubric the solution fails, a broken
    grader) goes up to main."""
    try:
        return _run(args)
    except KeyboardInterrupt:  # also while importing: Ctrl-C is one line, whenever it comes
        print("\ninterrupted: every result written so far is complete; run the same command to resume", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _run(args):
    from grader.batch import runner  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    settings = runner.Settings(
        jobs=args.jobs,
        budget=args.timeout,
        force=args.force,
        seed=args.seed,
        rubric_path=args.rubric,
        feedback=not args.no_feedback,
    )
    if args.scheduler is not None:  # Dask is imported only here
        try:
            from grader.batch import cluster  # noqa: PLC0415 -- Dask only for --scheduler
        except ImportError as error:
            raise UsageError(f"--scheduler needs Dask distributed: pip install 'optimkit[cluster]' ({error})") from None
        entries, results = cluster.run(args.submissions, args.out, settings, args.scheduler, progress=runner.Progress())
    else:
        entries, results = runner.run(args.submissions, args.out, settings, progress=runner.Progress())
    from grader.batch import class_files  # noqa: PLC0415 -- matplotlib (0.5 s): loaded by the lanes' driver while they grade

    print(class_files.write_outputs(entries, results, args.out))
    if not args.no_feedback:
        from grader.outputs.feedback import FOLDER, class_page  # noqa: PLC0415 -- numpy, torch: only with feedback

        print(f"feedback pages in {args.out / FOLDER}, class page {class_page.write(entries, results, args.out)}")
    return ExitCode.OK
