"""The pytest plugin behind `pytest grader` in the students' bundle: one test per graded rubric item,
grouped by part (`test_adam[single_step]`), each failing with its verdict, the diagnosis and the fix, and
with what the student's code printed while its part ran; the file checked, the points per part and the
advice (items not graded) at the end; exit code 0 only when every graded test passes. The student's code
runs in a child process, started at configure time so that its `import torch` overlaps pytest's own start."""

import importlib.util
import json
import sys
import unicodedata
from pathlib import Path

import pytest

from . import runner  # standard library only: judge (numpy) is imported once the worker has started
from .i18n import _

BUNDLE = Path(__file__).resolve().parent.parent
_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    runner.speak_release_language()  # the first hook: the options' help is in the release's language too
    group = parser.getgroup("selfcheck", "optimizers self-check")
    group.addoption(
        "--submission",
        type=Path,
        default=BUNDLE / "optimizers.py",
        help=_(
            "the .py or .ipynb to check, or a folder holding one (default: {file} beside this grader/ folder)"
        ).format(file="optimizers.py"),
    )
    group.addoption("--nesterov", action="store_true", help=_("also check the Nesterov bonus part"))


def pytest_configure(config):
    submission = config.getoption("submission", None)
    if submission is None:
        return
    runner.speak_release_language()
    if not submission.exists():
        raise pytest.UsageError(_("{option}: {path} does not exist").format(option="--submission", path=submission))
    missing = [name for name in ("torch", "numpy") if importlib.util.find_spec(name) is None]
    if missing:  # said once, with the fix, rather than as every test's "the process ended abruptly"
        raise pytest.UsageError(
            _(
                "this Python ({python}) has no {missing}, which the self-check needs. Activate the assignment's "
                "environment (README.md, Install), or install what it needs into this one: "
                "{python} -m pip install -r requirements.txt (torch first, as README.md says)"
            ).format(python=sys.executable, missing=_(" and no ").join(missing))
        )
    rubric = json.loads(runner.RUBRIC.read_text(encoding="utf-8"))
    tests = [test for test in rubric if not test["bonus"] or config.getoption("nesterov")]
    # The worker first: its `import torch` is most of the wait, and overlaps everything below.
    outcome = runner.check([submission], list(dict.fromkeys(test["part"] for test in tests)))[0]
    config.stash[_STATE] = {"tests": tests, "outcome": outcome, "results": [], "advice": [], "cases": None}


def pytest_report_header(config):
    if _STATE in config.stash:
        return [
            _("optimizers self-check: {path} (public cases; grading uses other, hidden ones)").format(
                path=config.getoption("submission")
            )
        ]
    return []


def pytest_generate_tests(metafunc):
    if "rubric_item" not in metafunc.fixturenames or _STATE not in metafunc.config.stash:
        return
    part = metafunc.function.__name__.removeprefix("test_")
    items = [test for test in metafunc.config.stash[_STATE]["tests"] if test["part"] == part]
    if not items:
        metafunc.parametrize(
            "rubric_item",
            [
                pytest.param(
                    None, marks=pytest.mark.skip(reason=_("the Nesterov bonus is not checked (add --nesterov)"))
                )
            ],
            ids=["off"],
        )
        return
    graded = [test for test in items if test["graded"]]  # the others are advice, said in the summary
    metafunc.parametrize("rubric_item", graded, ids=[test["test"] for test in graded])


def _problem(state, rubric_item):
    """The item's failure message, or None: a load error (a SyntaxError, a missing package) first, since
    it explains most of what is missing after it."""
    from . import judge  # noqa: PLC0415 -- numpy, once the worker has started (see `runner`'s import)

    if state["cases"] is None:
        state["cases"] = json.loads(runner.CASES.read_text(encoding="utf-8"))["parts"]
    outcome = state["outcome"]
    part = rubric_item["part"]
    result = outcome.wait(part)
    load = outcome.load or {}
    problem = load.get("error") or judge.judge(part, rubric_item["test"], state["cases"][part], result)
    if problem and load.get("errors"):
        errors = "; ".join(f"{e['where']}: {e['message']}{_fix(e['message'])}" for e in load["errors"][:3])
        problem = _("Your file could not be loaded in full: {errors}").format(errors=errors) + f"\n{problem}"
    return problem


def _fix(message):
    if message.startswith("ModuleNotFoundError"):
        return _(
            " (install what the assignment needs into this environment: python -m pip install -r requirements.txt)"
        )
    return ""


def _columns(text):
    """How many columns `text` takes in a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def run_item(request, rubric_item):
    state = request.config.stash[_STATE]
    problem = _problem(state, rubric_item)
    state["results"].append((rubric_item["part"], rubric_item["points"], problem is None))
    if problem:
        printed = state["outcome"].parts.get(rubric_item["part"], {}).get("output")
        if printed:  # as pytest shows a failing test's output
            request.node.add_report_section("call", "stdout", printed)
        pytest.fail(f"{rubric_item['title']}\n{problem}", pytrace=False)


def pytest_terminal_summary(terminalreporter, config):
    if _STATE not in config.stash or not config.stash[_STATE]["results"]:
        return
    from . import trajectory_verdict  # noqa: PLC0415 -- numpy, once the worker has started (see `runner`'s import)

    state = config.stash[_STATE]
    checked = {part for part, _points, _passed in state["results"]}
    for item in state["tests"]:  # the items not graded: what they find is advice, counted nowhere
        if not item["graded"] and item["part"] in checked:
            problem = _problem(state, item)
            if problem and _(trajectory_verdict.NOT_JUDGED) not in problem:
                state["advice"].append(
                    _("Advice, not graded ({title}): {problem}").format(title=item["title"], problem=problem)
                )
    terminalreporter.section(
        _("points for {path} (this self-check's public cases)").format(path=config.getoption("submission"))
    )
    for note in (state["outcome"].load or {}).get("notes", ()):
        terminalreporter.write_line(_("Note: {note}").format(note=note))
    parts = {}
    for part, points, passed in state["results"]:
        got, most = parts.get(part, (0.0, 0.0))
        parts[part] = (got + (points if passed else 0), most + points)
    for part, (got, most) in parts.items():
        terminalreporter.write_line(f"{part:<12} {got:g} / {most:g}")
    total, most = sum(g for g, _most in parts.values()), sum(m for _got, m in parts.values())
    # Translators: the label of the points' last line ("total        30 / 45"), padded to 12 columns.
    label = _("total")
    terminalreporter.write_line(f"{label}{' ' * (12 - _columns(label))} {total:g} / {most:g}")
    for note in state["advice"]:
        terminalreporter.write_line(note)
    terminalreporter.write_line(_("Grading runs more, hidden cases: passing here is a good sign, not a guarantee."))
