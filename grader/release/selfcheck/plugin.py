"""The pytest plugin behind `pytest selfcheck`: one test per rubric item, grouped by part
(`test_adam[single_step]`), each failing with its verdict, the diagnosis and the fix; points per part at
the end; exit code 0 only when every graded test passes. The student's code runs in a child process,
started at configure time so that its `import torch` overlaps pytest's own start."""

import json
from pathlib import Path

import pytest

from . import runner  # standard library only: judge (numpy) is imported once the worker has started

BUNDLE = Path(__file__).resolve().parent.parent
_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("selfcheck", "optimizers self-check")
    group.addoption("--submission", type=Path, default=BUNDLE / "optimizers.py",
                    help="the .py or .ipynb to check, or a folder holding one (default: optimizers.py beside selfcheck/)")
    group.addoption("--nesterov", action="store_true", help="also check the Nesterov bonus part")


def pytest_configure(config):
    submission = config.getoption("submission", None)
    if submission is None:
        return
    if not submission.exists():
        raise pytest.UsageError(f"--submission: {submission} does not exist")
    rubric = json.loads(runner.RUBRIC.read_text(encoding="utf-8"))
    tests = [test for test in rubric if not test["bonus"] or config.getoption("nesterov")]
    # The worker first: its `import torch` is most of the wait, and overlaps everything below.
    outcome = runner.check([submission], list(dict.fromkeys(test["part"] for test in tests)))[0]
    config.stash[_STATE] = {"tests": tests, "outcome": outcome, "results": [], "advice": [], "cases": None}


def pytest_report_header(config):
    if _STATE in config.stash:
        return [f"optimizers self-check: {config.getoption('submission')} (public cases; grading uses other, hidden ones)"]
    return []


def pytest_generate_tests(metafunc):
    if "rubric_item" not in metafunc.fixturenames or _STATE not in metafunc.config.stash:
        return
    part = metafunc.function.__name__.removeprefix("test_")
    items = [test for test in metafunc.config.stash[_STATE]["tests"] if test["part"] == part]
    if not items:
        metafunc.parametrize("rubric_item", [pytest.param(None, marks=pytest.mark.skip(
            reason="the Nesterov bonus is not checked (add --nesterov)"))], ids=["off"])
        return
    metafunc.parametrize("rubric_item", items, ids=[test["test"] for test in items])


def run_item(request, rubric_item):
    from . import judge

    state = request.config.stash[_STATE]
    if state["cases"] is None:
        state["cases"] = json.loads(runner.CASES.read_text(encoding="utf-8"))["parts"]
    outcome = state["outcome"]
    part = rubric_item["part"]
    result = outcome.wait(part)
    load = outcome.load or {}
    problem = load.get("error") or judge.judge(part, rubric_item["test"], state["cases"][part], result)
    if problem and load.get("errors"):  # what failed while loading explains most missing definitions
        problem += "\nWhile loading: " + "; ".join(f"{e['where']}: {e['message']}" for e in load["errors"][:3])
    if not rubric_item["graded"]:
        if problem and not problem.startswith("not judged"):
            state["advice"].append(f"Advice, not graded ({rubric_item['title']}): {problem}")
        return
    state["results"].append((part, rubric_item["points"], problem is None))
    if problem:
        pytest.fail(f"{rubric_item['title']}\n{problem}", pytrace=False)


def pytest_terminal_summary(terminalreporter, config):
    if _STATE not in config.stash or not config.stash[_STATE]["results"]:
        return
    state = config.stash[_STATE]
    terminalreporter.section("points (this self-check's public cases)")
    for note in (state["outcome"].load or {}).get("notes", ()):
        terminalreporter.write_line(f"Note: {note}")
    parts = {}
    for part, points, passed in state["results"]:
        got, most = parts.get(part, (0.0, 0.0))
        parts[part] = (got + (points if passed else 0), most + points)
    for part, (got, most) in parts.items():
        terminalreporter.write_line(f"{part:<12} {got:g} / {most:g}")
    total, most = sum(g for g, _ in parts.values()), sum(m for _, m in parts.values())
    terminalreporter.write_line(f"{'total':<12} {total:g} / {most:g}")
    for note in state["advice"]:
        terminalreporter.write_line(note)
    terminalreporter.write_line("Grading runs more, hidden cases: passing here is a good sign, not a guarantee.")
