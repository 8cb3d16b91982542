"""The command line of the platforms: `python -m grader gradescope | prairielearn | classroom-workflow`.

Each writes what its platform needs; an error (a bad rubric, a wheel that cannot be built, a workflow
already there, a file that cannot be written) is one line on stderr and exit status 2 (USAGE_ERROR), as
in `check`: grader.cli.main prints it.
"""

import contextlib
from pathlib import Path

from grader.cli.options import GRADING, LANGUAGE, NESTEROV, PLATFORM_TORCH
from grader.errors import ExitCode, UsageError
from grader.platforms import kit

PLACEHOLDER_IMAGE = "YOUR_DOCKERHUB_NAME/optimkit-grader"


def add_parsers(commands):
    """Add the platforms' subcommands to the CLI's subparsers."""
    gradescope = commands.add_parser(
        "gradescope", parents=[GRADING, NESTEROV, PLATFORM_TORCH, LANGUAGE], help="write a Gradescope autograder zip"
    )
    gradescope.add_argument("--out", type=Path, default=Path("autograder.zip"), help="the zip (default autograder.zip)")
    gradescope.add_argument(
        "--budget",
        type=float,
        default=420.0,
        metavar="SECONDS",
        help="grading time per submission (default 420); set Gradescope's timeout above it",
    )
    gradescope.add_argument(
        "--visibility",
        action="append",
        metavar="[PART=]VISIBILITY",
        help="what students see of the tests: visible (default), after_due_date, after_published "
        "or hidden; PART=VISIBILITY for one part (adam=after_due_date); repeatable",
    )
    gradescope.set_defaults(run=_gradescope)

    prairielearn = commands.add_parser(
        "prairielearn",
        parents=[GRADING, NESTEROV, PLATFORM_TORCH, LANGUAGE],
        help="write a PrairieLearn question's external-grading files",
    )
    prairielearn.add_argument("--out", type=Path, default=Path("prairielearn"), help="folder (default prairielearn/)")
    prairielearn.add_argument(
        "--image",
        default=PLACEHOLDER_IMAGE,
        help="the Docker Hub image the question runs (you build and push it from --out)",
    )
    prairielearn.add_argument(
        "--timeout",
        type=int,
        default=120,
        metavar="SECONDS",
        help="PrairieLearn's limit for a grading job (default 120, at most 600)",
    )
    prairielearn.set_defaults(run=_prairielearn)

    workflow = commands.add_parser(
        "classroom-workflow",
        parents=[LANGUAGE],
        help="write a GitHub Classroom workflow (formative: it runs in the student's repository)",
    )
    workflow.add_argument(
        "--out", type=Path, default=Path("."), help="the template repository's folder (default: here)"
    )
    workflow.add_argument("--submission", default="optimizers.py", help="the student's file in the repository")
    workflow.add_argument("--python", default="3.12", help="the Python version the workflow installs (default 3.12)")
    workflow.add_argument(
        "--torch",
        default=kit.TORCH_SPEC,
        help=f"the torch requirement (default: {kit.TORCH_SPEC}, the version the kit was tested with)",
    )
    workflow.add_argument("--force", action="store_true", help="replace an existing .github/workflows/classroom.yml")
    workflow.set_defaults(run=_classroom_workflow)


@contextlib.contextmanager
def _writing():
    """A file or folder that cannot be written is the user's to fix: one line, USAGE_ERROR."""
    try:
        yield
    except OSError as error:
        raise UsageError(str(error)) from None


def _gradescope(args):
    from grader.platforms import gradescope, runner  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    if not args.budget > 0:
        raise runner.SettingsError(f"--budget must be positive, got {args.budget}")
    with _writing():
        settings = runner.Settings(
            nesterov=args.nesterov,
            seed=args.seed,
            budget=args.budget,
            visibility=runner.parse_visibility(args.visibility),
        )
        out = gradescope.build_zip(args.out, settings, args.rubric, torch_spec=args.torch)
    print(
        f"{out}: upload it in Gradescope (Configure Autograder, Zip file upload); give the autograder "
        f"at least 2 GB of memory and a timeout above {args.budget:g} s"
    )
    return ExitCode.OK


def _prairielearn(args):
    from grader.platforms import prairielearn, runner  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    with _writing():
        settings = runner.Settings(nesterov=args.nesterov, seed=args.seed)
        written = prairielearn.write_question(
            args.out, settings, args.rubric, args.image, timeout=args.timeout, torch_spec=args.torch
        )
    for path in written:
        print(path)
    if args.image == PLACEHOLDER_IMAGE:
        print(f"note: info.json and the Dockerfile name the image {PLACEHOLDER_IMAGE}; pass --image with yours")
    return ExitCode.OK


def _classroom_workflow(args):
    from grader.platforms import github_classroom  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    with _writing():
        written = github_classroom.write_workflow(
            args.out, submission=args.submission, python=args.python, torch_spec=args.torch, force=args.force
        )
    for path in written:
        print(path)
    print(
        "note: the workflow runs in each student's own repository, where the kit and its reference solution "
        "can be read: use it for feedback, not for a secure grade"
    )
    return ExitCode.OK
