"""PrairieLearn external grading: what a question needs (`python -m grader prairielearn --out DIR`) and
what runs in the grading container (`python -m grader.platforms.prairielearn`, started by the `grade`
entry script).

DIR holds `info.json` (the question's `gradingMethod` and `externalGradingOptions`: image, entrypoint,
timeout), `Dockerfile` and what it copies (the kit's wheel, `grade`, `optimkit.json`, `rubric.json`), and
`question.html`, a file-upload question to start from. In the container the grader reads
/grade/data/data.json and /grade/student/, and writes /grade/results/results.json (under 1 MB);
/grade can be moved with OPTIMKIT_GRADE_ROOT, the settings with OPTIMKIT_SETTINGS (the tests do).

Format (lms-formats.md, section 2): `gradable`, `score` in [0, 1], `message`, `output`, `tests` with
`name`, `points`, `max_points`, `message`, `output`; `format_errors` with `gradable: false` when the
submission cannot be read.
"""

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from grader.errors import ExitCode
from grader.inputs.regular_files import read_regular

from ..atomic import write_atomic
from . import kit, protect, runner

ROOT_VARIABLE = "OPTIMKIT_GRADE_ROOT"
SETTINGS_VARIABLE = "OPTIMKIT_SETTINGS"
DEFAULT_ROOT = "/grade"
IMAGE_HOME = "/optimkit"  # in the image: grade, optimkit.json, rubric.json (root's alone)
FILES = Path(__file__).with_name("files")
MAX_BYTES = 1024 * 1024  # PrairieLearn's grader host fails a job whose results are larger
_BUDGET = MAX_BYTES - 64 * 1024  # what we aim under, leaving room for the JSON around the texts
MAX_TIMEOUT = 600  # PrairieLearn refuses more (externalGradingOptions.timeout)
STARTUP_SECONDS = 30  # of the job's timeout kept for starting Python, torch and the worker


def results(report):
    """PrairieLearn's results.json (a dict) for a GradeReport of a submission that was read."""
    data = report.to_dict()
    tests = [
        {
            "name": test["name"],
            "points": test["score"],
            "max_points": test["max_score"],
            "message": "passed"
            if test["status"] == "passed"
            else runner.truncate(test["output"].split("\n", 1)[0], 500),
            "output": "" if test["status"] == "passed" else test["output"],
        }
        for test in data["tests"]
    ]
    most = data["max_score"]
    verdict = {
        "graded": "",
        "error": " The submission could not be loaded.",
        "timeout": " Grading ran out of time; the tests not reached score 0.",
    }[data["extra_data"]["status"]]
    return _within_limit(
        {
            "gradable": True,
            "score": min(1.0, max(0.0, data["score"] / most)) if most > 0 else 0.0,
            "message": f"{data['score']:g} / {most:g} points.{verdict}",
            "output": data["output"],
            "tests": tests,
        }
    )


def format_error_results(message):
    """The submission cannot be read (no file, several, not UTF-8, not a notebook): not gradable, so the
    student keeps the attempt."""
    return {"gradable": False, "score": 0.0, "format_errors": [message], "message": message, "output": "", "tests": []}


def failure_results(message):
    """The grader itself failed: not gradable either (the attempt is not the student's to lose)."""
    return {"gradable": False, "score": 0.0, "format_errors": [message], "message": message}


def _within_limit(data):
    """`data` with its texts cut until its JSON is under PrairieLearn's 1 MB (test outputs first)."""
    limit = 50_000
    while _size(data) > _BUDGET and limit >= 100:
        for test in data["tests"]:
            test["output"] = runner.truncate(test["output"], limit)
            test["message"] = runner.truncate(test["message"], min(limit, 2000))
        data["output"] = runner.truncate(data["output"], limit)
        limit //= 2
    if _size(data) > _BUDGET:  # thousands of tests: keep the score, drop the details
        data["tests"], data["output"] = [], "The details were too long for PrairieLearn and were left out."
    return data


def _size(data):
    return len(json.dumps(data, allow_nan=False).encode("utf-8"))


def _data_names(root):
    """The file names to prefer, from the question's data (params.optimkit.submission), if it says."""
    try:
        data = json.loads(read_regular(root / "data" / "data.json", 16 << 20).decode("utf-8"))
        name = data["params"]["optimkit"]["submission"]
    except Exception:  # noqa: BLE001 -- optional: no data, or no such entry, means the defaults
        return None
    return (name,) if isinstance(name, str) and name else None


def run(root=None, settings_path=None, zygote=None):
    """Grade ROOT/student into ROOT/results/results.json; 0, or 1 when the grader itself failed (then
    the results say so and are not gradable). zygote: a warm worker to use (tests)."""
    started = time.monotonic()
    root = Path(root or os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
    settings_path = Path(settings_path or os.environ.get(SETTINGS_VARIABLE) or f"{IMAGE_HOME}/{runner.SETTINGS_FILE}")
    target = root / "results" / "results.json"
    _write(
        target,
        failure_results(
            "Grading started but did not finish: it was stopped (out of time or memory) "
            "before a score was known. This is not a verdict on your code."
        ),
    )
    try:
        # The question's files are the grader's to read, never student code's (which never runs as root).
        protect.protect([root / name for name in ("tests", "serverFilesCourse", "data")])
        settings = runner.load_settings(settings_path)
        names = _data_names(root)
        if names:
            settings = dataclasses.replace(settings, names=names)
        # Read once, by grading itself, within the budget and the hard deadline behind it (a file read here
        # first could hold the run: a 5 MB .py in the punycode codec decodes in quadratic time).
        report = runner.grade(root / "student", settings, settings_path.parent, zygote=zygote)
        if report.status == "error" and not report.sha256:  # nothing could be read: the attempt is kept
            data = format_error_results(report.output)
        else:
            data = results(report)
        code = ExitCode.OK
    except Exception as error:  # noqa: BLE001 -- the grader's own failure still gets a results file
        traceback.print_exc()
        data, code = (
            failure_results(
                f"The grader failed ({type(error).__name__}: {str(error)[:500]}); this is "
                "not a verdict on your code. Tell your instructor."
            ),
            ExitCode.GRADER_FAILED,
        )
    _write(target, data)
    print(f"results: {target}: {data['message']} ({time.monotonic() - started:.1f} s)")
    return code


def _write(path, data):
    write_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n", 0o644)


def write_question(out, settings, rubric_path, image, timeout=120, torch_spec=None, language=None):
    """Write what a PrairieLearn question needs into the folder `out` (see the module's docstring).
    language: what the grading speaks to students (default: this process's, the command's --lang)."""
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: after a platform run's zygote starts

    if not 1 <= timeout <= MAX_TIMEOUT:
        raise runner.SettingsError(f"--timeout must be between 1 and {MAX_TIMEOUT} seconds (PrairieLearn's limit)")
    rubric_module.load(rubric_path, enable=("nesterov",) if settings.nesterov else ())
    torch_spec = torch_spec or kit.TORCH_SPEC
    settings = dataclasses.replace(
        settings, rubric=runner.RUBRIC_FILE, budget=float(max(timeout - STARTUP_SECONDS, timeout / 2))
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="optimkit-prairielearn-") as scratch:
        wheel = kit.build_wheel(scratch)
        for old in out.glob("optimkit-*.whl"):
            old.unlink()
        shutil.copyfile(wheel, out / wheel.name)
    shutil.copyfile(rubric_path, out / runner.RUBRIC_FILE)
    (out / runner.SETTINGS_FILE).write_text(settings.to_json(), encoding="utf-8")
    grade = out / "grade"
    grade.write_bytes(grade_script(language).encode("utf-8"))
    grade.chmod(0o755)
    dockerfile = (FILES / "prairielearn.Dockerfile").read_text(encoding="utf-8")
    (out / "Dockerfile").write_text(
        dockerfile.replace("@WHEEL@", wheel.name).replace("@TORCH_SPEC@", torch_spec).replace("@IMAGE@", image),
        encoding="utf-8",
    )
    info = {
        "gradingMethod": "External",
        "externalGradingOptions": {"image": image, "entrypoint": f"{IMAGE_HOME}/grade", "timeout": timeout},
    }
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(FILES / "prairielearn_question.html", out / "question.html")
    return sorted(path for path in out.iterdir())


def grade_script(language=None):
    """The image's entry point (`grade`): it starts this module, with `--lang` where the language is not English."""
    script = (FILES / "prairielearn_grade.sh").read_text(encoding="utf-8")
    return kit.with_language(script, "-m grader.platforms.prairielearn", language)


if __name__ == "__main__":
    kit.speak_language_of(prog="python -m grader.platforms.prairielearn")
    sys.exit(run())
