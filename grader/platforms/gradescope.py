"""Gradescope: the autograder zip (`python -m grader gradescope`) and what runs in it for each submission.

The zip holds, at its root, `setup.sh` (installs CPU PyTorch and the kit's wheel into a virtual
environment when Gradescope builds the image), `run_autograder` (grades /autograder/submission), the
kit's wheel, the rubric and `optimkit.json` (the settings). `python -m grader.platforms.gradescope`
is what `run_autograder` starts: it writes /autograder/results/results.json whatever happens.
/autograder can be moved with OPTIMKIT_AUTOGRADER_ROOT (the tests do).

Format (lms-formats.md, section 1): top-level `score` (it overrides the tests' sum), `execution_time`,
`output`, `tests` with `name`, `score`, `max_score`, `status`, `output`, `tags`, `visibility`.
"""

import dataclasses
import json
import os
import shlex
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from grader.errors import ExitCode

from ..atomic import write_atomic
from . import kit, protect, runner

ROOT_VARIABLE = "OPTIMKIT_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
FILES = Path(__file__).with_name("files")
_EXECUTABLE = 0o100755 << 16  # a zip entry's Unix mode: a regular file, rwxr-xr-x
_READABLE = 0o100644 << 16
_TEST_KEYS = ("name", "score", "max_score", "status", "output", "tags")
MAX_TEST_OUTPUT = 20_000  # characters of one test's output; a verdict is a few hundred


def results(report, visibility):
    """Gradescope's results.json (a dict) for a GradeReport; `visibility` as Settings.visibility."""
    data = report.to_dict()
    tests = []
    for number, test in enumerate(data["tests"], start=1):
        entry = {key: test[key] for key in _TEST_KEYS}
        entry["output"] = runner.truncate(entry["output"], MAX_TEST_OUTPUT)
        entry["number"] = str(number)
        entry["visibility"] = visibility["parts"].get(test["tags"][0], visibility["default"])
        entry["extra_data"] = test["extra_data"]
        tests.append(entry)
    # max_score is not a top-level key of Gradescope's format: it goes with the grader's facts.
    return {
        "score": data["score"],
        "execution_time": data["execution_time"],
        "output": runner.truncate(data["output"], MAX_TEST_OUTPUT),
        "output_format": "text",  # student text (what their code printed) is never read as markup
        "test_output_format": "text",
        "tests": tests,
        "extra_data": {**data["extra_data"], "max_score": data["max_score"]},
    }


def failure_results(message, elapsed=0.0):
    """results.json when no grade could be made: score 0, and why, in words for the student."""
    return {
        "score": 0.0,
        "execution_time": round(elapsed, 3),
        "output": message,
        "output_format": "text",
        "tests": [],
        "extra_data": {"status": "grader_error"},
    }


def _write(path, data):
    write_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n", 0o644)


def run(root=None, zygote=None):
    """Grade ROOT/submission into ROOT/results/results.json; 0, or 1 when the grader itself failed (the
    results then say so, with score 0). zygote: a warm worker to use (tests)."""
    started = time.monotonic()
    root = Path(root or os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
    source, target = root / "source", root / "results" / "results.json"
    # Written first, replaced at the end: if the run is killed (the platform's timeout, memory), a
    # results file still says what happened instead of "the autograder failed to execute correctly".
    _write(
        target,
        failure_results(
            "Grading started but did not finish: it was stopped (out of time or memory) "
            "before a score was known. This is not a verdict on your code; tell your "
            "instructor."
        ),
    )
    try:
        protect.protect([source])
        settings = runner.load_settings(source / runner.SETTINGS_FILE)
        report = runner.grade(root / "submission", settings, source, zygote=zygote)
        data = results(report, settings.visibility)
        code = ExitCode.OK
    except Exception as error:  # noqa: BLE001 -- the grader's own failure still gets a results file
        traceback.print_exc(file=sys.stdout)  # Gradescope keeps stdout for instructors only
        data = failure_results(
            f"The autograder could not grade this submission ({type(error).__name__}: "
            f"{str(error)[:500]}). This is not a verdict on your code; tell your instructor.",
            time.monotonic() - started,
        )
        code = ExitCode.GRADER_FAILED
    try:
        _write(target, data)
    except (OSError, ValueError) as error:  # e.g. a disk that is full: the file written first stays
        print(f"results could not be written: {error}")
        return ExitCode.GRADER_FAILED
    print(
        f"results: {target}: score {data['score']:g}"
        + (f" of {data['extra_data']['max_score']:g}" if "max_score" in data["extra_data"] else "")
    )
    isolation = data["extra_data"].get("isolation")
    if isolation:  # which walls Gradescope's container allowed: stdout is for instructors only
        print(f"isolation: {isolation['summary']}")
    print(data["output"])
    return code


def build_zip(out, settings, rubric_path, torch_spec=None, language=None):
    """Write the autograder zip to `out`: setup.sh and run_autograder at its root, the kit's wheel, the
    rubric and the settings beside them. The rubric is checked first (RubricError). language: what
    run_autograder's grading speaks to students (default: this process's, the command's --lang)."""
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: after a platform run's zygote starts

    rubric_module.load(rubric_path, enable=("nesterov",) if settings.nesterov else ())  # fails here, not on Gradescope
    settings = dataclasses.replace(settings, rubric=runner.RUBRIC_FILE)
    torch_spec = torch_spec or kit.TORCH_SPEC  # pinned: grades do not change when PyTorch does
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="optimkit-gradescope-") as scratch:
        wheel = kit.build_wheel(scratch)
        setup = (
            (FILES / "gradescope_setup.sh").read_text(encoding="utf-8").replace("@TORCH_SPEC@", shlex.quote(torch_spec))
        )
        partial = out.with_name(f".{out.name}.partial")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (
                ("setup.sh", setup),
                ("run_autograder", run_autograder(language)),
            ):
                entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                entry.external_attr, entry.compress_type = _EXECUTABLE, zipfile.ZIP_DEFLATED
                archive.writestr(entry, text)
            archive.write(wheel, wheel.name)
            for name, text in (
                (runner.RUBRIC_FILE, Path(rubric_path).read_text(encoding="utf-8")),
                (runner.SETTINGS_FILE, settings.to_json()),
            ):
                entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                entry.external_attr, entry.compress_type = _READABLE, zipfile.ZIP_DEFLATED
                archive.writestr(entry, text)
        os.replace(partial, out)
    return out


def run_autograder(language=None):
    """The run_autograder script: it starts this module, with `--lang` where the language is not English."""
    script = (FILES / "gradescope_run_autograder.sh").read_text(encoding="utf-8")
    return kit.with_language(script, "-m grader.platforms.gradescope", language)


if __name__ == "__main__":
    kit.speak_language_of(prog="python -m grader.platforms.gradescope")
    sys.exit(run())
