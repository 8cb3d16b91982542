"""Does the command line say what it returns, and return it?

- every ExitCode constant is listed in `python -m grader --help`, with its number;
- each status is what a real situation returns: a finished command (OK), a stub below full marks
  (POINTS_LOST), a platform run that cannot grade (GRADER_FAILED), a bad rubric or command line
  (USAGE_ERROR), Ctrl-C during a batch (INTERRUPTED);
- every error a user can cause derives from OptimkitError, and is printed as one line, no traceback;
- the commands keep every option they had, the shared ones (parent parsers) included.
"""

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli, defaults
from grader.errors import ExitCode, OptimkitError, UsageError
from grader.platforms import gradescope

ROOT = Path(__file__).resolve().parents[1]
STUB = ROOT / "assignments" / "optimizers.py"

#: (module, class) of every error a user can cause (the person running a command, not a student's code).
USER_ERRORS = [
    ("grader.judge.rubric", "RubricError"),
    ("grader.assignment.errors", "AssignmentError"),
    ("grader.release.bundle", "ReleaseError"),
    ("grader.outputs.gradebook", "GradebookError"),
    ("grader.platforms.runner", "SettingsError"),
    ("grader.platforms.kit", "KitError"),
    ("grader.platforms.github_classroom", "ClassroomError"),
    ("grader.platforms.exposure", "AnswersReadable"),
    ("grader.batch.runner", "BatchError"),
    ("grader.batch.recording", "RecordingError"),
    ("grader.inputs.discover", "DiscoveryError"),
    ("grader.errors", "UsageError"),
]
#: Errors code catches by another base as well: that base must stay.
ALSO_DERIVED = {
    "RubricError": ValueError,
    "AssignmentError": ValueError,
    "GradebookError": ValueError,
    "SettingsError": ValueError,
    "DiscoveryError": ValueError,
    "AnswersReadable": RuntimeError,
}

#: Each command's options, as before the CLI became a package (the shared ones come from options.py).
OPTIONS = {
    ("assign",): {"--lang", "--out", "--solution"},
    ("check",): {"--lang", "--json", "--seed", "--rubric", "--nesterov", "--timeout", "--classroom", "--html"},
    ("batch",): {
        "--lang",
        "--out",
        "--jobs",
        "--timeout",
        "--force",
        "--seed",
        "--rubric",
        "--no-feedback",
        "--scheduler",
    },
    ("release",): {"--lang", "--out", "--zip"},
    ("gradebook", "canvas"): {"--export", "--assignment", "--out", "--missing"},
    ("gradebook", "moodle"): {"--worksheet", "--out", "--feedback-zip", "--missing"},
    ("gradescope",): {"--lang", "--out", "--rubric", "--nesterov", "--seed", "--torch", "--budget", "--visibility"},
    ("prairielearn",): {"--lang", "--out", "--image", "--timeout", "--rubric", "--nesterov", "--seed", "--torch"},
    ("classroom-workflow",): {"--lang", "--out", "--submission", "--python", "--torch", "--force"},
}


def _grader(*args, cwd=ROOT, timeout=600):
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_OUTPUT"}
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        check=False,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _subparser(parser, path):
    for name in path:
        commands = next(action for action in parser._actions if action.dest in ("command", "platform"))
        parser = commands.choices[name]
    return parser


def test_the_help_lists_every_exit_status():
    """Does `python -m grader --help` name every ExitCode constant, aliases included, with its number?"""
    done = _grader("--help")
    assert done.returncode == ExitCode.OK, done.stderr
    lines = done.stdout.splitlines()
    for name, code in ExitCode.__members__.items():
        assert any(line.split()[:2] == [str(int(code)), name] for line in lines if line.strip()), name


def test_the_statuses_keep_their_numbers():
    """Scripts and LMS runners test these numbers: they are the ones the commands always returned."""
    assert {name: int(code) for name, code in ExitCode.__members__.items()} == {
        "OK": 0,
        "POINTS_LOST": 1,
        "GRADER_FAILED": 1,
        "USAGE_ERROR": 2,
        "INTERRUPTED": 130,
    }


@pytest.mark.parametrize(("module", "name"), USER_ERRORS, ids=[name for _, name in USER_ERRORS])
def test_every_user_error_derives_from_the_one_base(module, name):
    """Can main catch each error a user can cause as an OptimkitError, while code that catches it as a
    ValueError or RuntimeError still does?"""
    error = getattr(importlib.import_module(module), name)
    assert issubclass(error, OptimkitError)
    if name in ALSO_DERIVED:
        assert issubclass(error, ALSO_DERIVED[name])


def test_the_cluster_worker_error_derives_from_the_one_base():
    """The same for the Dask workers' set-up error (the `cluster` extra may be missing)."""
    cluster = pytest.importorskip("grader.batch.cluster")
    assert issubclass(cluster.WorkerSetupError, OptimkitError)


def test_the_bundle_shared_readers_stay_standalone():
    """submission.py, notebook.py and regular_files.py are copied verbatim into the student bundle,
    which has no grader.errors: their errors are verdicts, and they import nothing of the kit's."""
    for name in ("submission.py", "notebook.py", "regular_files.py"):
        text = (ROOT / "grader" / "inputs" / name).read_text(encoding="utf-8")
        assert "grader.errors" not in text and "OptimkitError" not in text, name


def test_an_error_keeps_its_message_and_can_carry_its_own_status():
    error = UsageError("--out x: cannot write", exit_code=ExitCode.POINTS_LOST)
    assert str(error) == "--out x: cannot write" and error.exit_code == ExitCode.POINTS_LOST
    assert UsageError("plain").exit_code == ExitCode.USAGE_ERROR


def test_ok_when_the_command_did_its_work(tmp_path, capsys):
    assert cli.main(["assign", "--out", str(tmp_path / "students")]) == ExitCode.OK
    assert sorted(path.name for path in (tmp_path / "students").iterdir()) == ["optimizers.ipynb", "optimizers.py"]


@pytest.mark.commands
def test_points_lost_for_the_stub():
    """The unmodified stub is graded and loses the points of its blank parts."""
    done = _grader("check", STUB, timeout=300)
    assert done.returncode == ExitCode.POINTS_LOST, done.stderr
    assert "not implemented yet" in done.stdout


def test_grader_failed_when_a_platform_run_cannot_grade(tmp_path, capsys):
    """A Gradescope run without its settings writes a results file saying so, and ends with 1."""
    assert gradescope.run(root=tmp_path) == ExitCode.GRADER_FAILED
    data = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["extra_data"]["status"] == "grader_error"


@pytest.mark.commands
def test_usage_error_for_a_bad_rubric_is_one_line(tmp_path):
    """A user error: `error: ...` on one line of stderr, status 2, no traceback."""
    bad = tmp_path / "rubric.json"
    bad.write_text('{"parts": 3}', encoding="utf-8")
    done = _grader("check", STUB, "--rubric", bad, timeout=300)
    assert done.returncode == ExitCode.USAGE_ERROR
    assert done.stderr.splitlines() == [f"error: {bad}: 'parts' must be a list of parts, got int"]
    assert done.stdout == ""


def test_usage_error_for_a_folder_that_is_not_one(tmp_path):
    done = _grader("batch", tmp_path / "nowhere", "--out", tmp_path / "out", timeout=300)
    assert done.returncode == ExitCode.USAGE_ERROR
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path / 'nowhere'}: no such folder") and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["batch", ".", "--out", "out", "--jobs", "0"],
        ["check", "x.py", "--timeout", "nan"],
        ["check"],
        ["no-such-command"],
    ],
)
def test_usage_error_for_a_command_line_argparse_refuses(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == ExitCode.USAGE_ERROR
    assert "usage: python -m grader" in capsys.readouterr().err


def test_usage_error_from_the_platform_commands(tmp_path, capsys):
    """An error the platforms' commands raise (here a SettingsError) is printed by main, once."""
    code = cli.main(["prairielearn", "--out", str(tmp_path / "question"), "--timeout", "601"])
    assert code == ExitCode.USAGE_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "error: --timeout must be between 1 and 600 seconds (PrairieLearn's limit)"
    ]


def test_interrupted_when_a_batch_is_stopped(tmp_path, monkeypatch, capsys):
    """Ctrl-C during a batch: one line, status 130."""
    from grader.batch import runner  # noqa: PLC0415 -- when the command runs (--help: 0.1 s)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", stopped)
    (tmp_path / "submissions").mkdir()
    code = cli.main(["batch", str(tmp_path / "submissions"), "--out", str(tmp_path / "out")])
    assert code == ExitCode.INTERRUPTED
    assert capsys.readouterr().err.strip().splitlines() == [
        "interrupted: every result written so far is complete; run the same command to resume"
    ]


@pytest.mark.parametrize("path", list(OPTIONS), ids=" ".join)
def test_every_command_keeps_its_options(path):
    """The shared parent parsers add exactly the options each command had, with their defaults."""
    parser = _subparser(cli.build_parser(), path)
    options = {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}
    assert options == OPTIONS[path]


def test_the_shared_options_mean_the_same_everywhere():
    """--seed and --rubric have the same defaults in every command that grades or ships a rubric."""
    parser = cli.build_parser()
    for argv in (["check", "x.py"], ["batch", "x", "--out", "y"], ["gradescope"], ["prairielearn"]):
        args = parser.parse_args(argv)
        assert (args.seed, args.rubric) == (defaults.SEED, defaults.RUBRIC), argv


@pytest.mark.parametrize("path", list(OPTIONS), ids=" ".join)
def test_the_options_page_names_every_option(path):
    """docs/instructors/options.md's synopsis of each command names exactly the options its parser has."""
    page = (ROOT / "docs" / "instructors" / "options.md").read_text(encoding="utf-8")
    command = "optimkit " + " ".join(path) + " "
    rows = [line for line in page.splitlines() if line.startswith(f"| `{command}")]
    assert len(rows) == 1, f"docs/instructors/options.md has no single row for `{command.strip()}`"
    synopsis = rows[0].split("`")[1]
    assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", synopsis)) == OPTIONS[path], synopsis
