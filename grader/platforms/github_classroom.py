"""GitHub Classroom: `check --classroom` writes the result that Classroom's grading reporter
(classroom-resources/autograding-grading-reporter@v1) reads, and `python -m grader classroom-workflow`
writes a workflow that runs it.

The result is what autograding-command-grader@v1 would leave (lms-formats.md, section 5): a step output
`result=<base64 of JSON>` with `{version: 1, status, max_score, tests: [{name, status, score, message,
test_code, filename, line_no, duration}]}`; the reporter (given `runners: optimkit` and the env variable
OPTIMKIT_RESULTS) adds up the tests' scores. The workflow runs in the student's own repository, where
the kit (reference solution included) is readable: this is feedback, never a secure grade.
"""

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path

from grader.errors import OptimkitError

from . import kit, runner

OUTPUT_VARIABLE = "GITHUB_OUTPUT"
RUNNER_ID = "optimkit"  # the grading step's id; the reporter reads env OPTIMKIT_RESULTS
MAX_MESSAGE = 1500  # characters of a test's message; the reporter prints every one in the job's log
WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
KIT_FOLDER = Path(".github") / "optimkit"
FILES = Path(__file__).with_name("files")


class ClassroomError(OptimkitError):
    """Where the result cannot be written (no GITHUB_OUTPUT outside Actions; a workflow already there)."""


def result(report):
    """The reporter's result (a dict) for a GradeReport."""
    data = report.to_dict()
    status = data["extra_data"]["status"]
    tests = [
        {
            "name": test["name"],
            "status": "pass" if test["status"] == "passed" else "error" if status == "error" else "fail",
            "score": test["score"],
            "message": runner.truncate(test["output"], MAX_MESSAGE),
            "test_code": "",
            "filename": "",
            "line_no": 0,
            "duration": 0,  # not measured per test
        }
        for test in data["tests"]
    ]
    overall = "error" if status == "error" else "pass" if data["score"] == data["max_score"] else "fail"
    return {"version": 1, "status": overall, "max_score": data["max_score"], "tests": tests}


def output_file(option):
    """Where `check --classroom [FILE]` appends: FILE, or $GITHUB_OUTPUT (ClassroomError outside Actions)."""
    if not option and not os.environ.get(OUTPUT_VARIABLE):
        raise ClassroomError(
            f"--classroom without a FILE appends to ${OUTPUT_VARIABLE}, which is not set: run it in a "
            "GitHub Actions step, or name a file (--classroom FILE)"
        )
    path = Path(option or os.environ[OUTPUT_VARIABLE])
    if path.is_dir() or not path.parent.is_dir():
        raise ClassroomError(f"--classroom: cannot append to {path} (a folder, or in a folder that does not exist)")
    return path


def write(report, path):
    """Append `result=<base64 JSON>` (GitHub's step-output syntax) to `path`; return the result dict."""
    data = result(report)
    encoded = base64.b64encode(json.dumps(data, allow_nan=False).encode("utf-8")).decode("ascii")
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"result={encoded}\n")
    return data


def write_workflow(out, submission="optimizers.py", python="3.12", torch_spec=None, force=False, language=None):
    """Write the workflow and the kit's wheel into the repository folder `out`; return their paths.
    language: what `optimkit check` says to the student there (default: this process's, the command's --lang)."""
    out = Path(out)
    workflow = out / WORKFLOW
    if workflow.exists() and not force:
        raise ClassroomError(f"{workflow} exists already; add --force to replace it")
    with tempfile.TemporaryDirectory(prefix="optimkit-classroom-") as scratch:
        wheel = kit.build_wheel(scratch)
        (out / KIT_FOLDER).mkdir(parents=True, exist_ok=True)
        for old in (out / KIT_FOLDER).glob("optimkit-*.whl"):
            old.unlink()
        shutil.copyfile(wheel, out / KIT_FOLDER / wheel.name)
    text = (FILES / "classroom.yml").read_text(encoding="utf-8")
    # Values go in as quoted YAML strings (JSON's are valid YAML) and reach the shell as variables:
    # a file name with spaces or quotes stays one argument.
    quoted = {
        "@WHEEL@": (KIT_FOLDER / wheel.name).as_posix(),
        "@SUBMISSION@": submission,
        "@PYTHON@": python,
        "@TORCH_SPEC@": torch_spec or kit.TORCH_SPEC,
    }
    for key, value in quoted.items():
        text = text.replace(key, json.dumps(value))
    text = text.replace("@RUNNER_ENV@", f"{RUNNER_ID.upper()}_RESULTS").replace("@RUNNER@", RUNNER_ID)
    text = kit.with_language(text, 'optimkit check "$SUBMISSION" --classroom', language)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(text, encoding="utf-8")
    return [workflow, out / KIT_FOLDER / wheel.name]
