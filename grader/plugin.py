"""The pytest plugin behind `pytest grader`: a student's self-check with the grader's own checks.

One pytest test per rubric test, grouped by part (`test_adam[single_step]`), each failing with the
grader's verdict; the seed and the submission in the report header; points per part at the end. The
exit code is 0 only when every graded test passes. Hooks appear in the order pytest calls them.
"""

import unicodedata
from pathlib import Path

import pytest

from grader import i18n
from grader.i18n import _
from grader.inputs import submission
from grader.inputs.submission import SubmissionError, locate
from grader.outputs.results import TestResult
from grader.sandbox.launcher import Zygote

from . import defaults

SUBMISSION_HELP = f"the .py or .ipynb to check, or a folder holding one (default: {defaults.SUBMISSION})"
SEED_HELP = f"hypothesis seed for the grader's examples (default: {defaults.SEED})"
RUBRIC_HELP = "a rubric JSON with the points of each test (default: the grader's own)"
NESTEROV_HELP = "also check the Nesterov bonus part"
LANG_HELP = f"the language of the verdicts (default: {i18n.DEFAULT})"

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("optimkit", "optimkit grader")
    group.addoption("--submission", type=Path, default=defaults.SUBMISSION, help=SUBMISSION_HELP)
    group.addoption("--seed", type=int, default=defaults.SEED, help=SEED_HELP)
    group.addoption("--rubric", type=Path, default=defaults.RUBRIC, help=RUBRIC_HELP)
    group.addoption("--nesterov", action="store_true", help=NESTEROV_HELP)
    group.addoption("--lang", choices=i18n.LANGUAGES, default=i18n.DEFAULT, help=LANG_HELP)


def pytest_configure(config):
    # grader/conftest.py, hence this hook, is only loaded when pytest collects grader/.
    i18n.set_language(config.getoption("lang"))  # before anything is said: every verdict is looked up in it
    try:
        locate(config.getoption("submission"))
    except SubmissionError as error:
        raise pytest.UsageError(f"--submission: {error}") from None
    # Start the warm worker first: its torch import overlaps with this process's collection.
    config.stash[_STATE] = {"zygote": Zygote(), "context": None, "results": [], "rubric": None, "advice": []}


def pytest_report_header(config):
    if _STATE not in config.stash:
        return []
    return [f"optimkit grader: submission {config.getoption('submission')}, seed {config.getoption('seed')}"]


def pytest_generate_tests(metafunc):
    if "rubric_test" not in metafunc.fixturenames:
        return
    from grader.judge import rubric  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)

    try:
        chosen = rubric.load(
            metafunc.config.getoption("rubric"), enable=("nesterov",) if metafunc.config.getoption("nesterov") else ()
        )
    except rubric.RubricError as error:
        raise pytest.UsageError(str(error)) from None
    metafunc.config.stash[_STATE]["rubric"] = chosen
    part = metafunc.function.__name__.removeprefix("test_")
    tests = [test for test in chosen.tests if test.part == part]
    if not tests:
        reason = (
            _("the Nesterov bonus is not graded (add --nesterov)")
            if part == "nesterov"
            else _("the rubric has no part {part}").format(part=repr(part))
        )
        metafunc.parametrize("rubric_test", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["off"])
        return
    metafunc.parametrize("rubric_test", tests, ids=[test.test for test in tests])


@pytest.fixture(scope="session")
def grading_context(request):
    """The submission loaded in its sandbox, once for the whole session (None if it cannot be)."""
    from grader import grading  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)
    from grader.judge.properties import Context  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)
    from grader.sandbox.client import Sandbox, WorkerError  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)

    config = request.config
    state = config.stash[_STATE]
    path = config.getoption("submission")
    try:
        read = submission.read(path)
        state["notes"] = read.notes  # how a notebook's cells were read: shown with the points
        sandbox = Sandbox(state["zygote"], list(read.chunks))
    except submission.SubmissionError as error:
        state["load_error"] = _("the submission could not be read: {error}").format(error=error)
        yield None
        return
    except WorkerError as error:
        state["load_error"] = _("{name} could not be loaded: {problem}").format(name=path, problem=error.message)
        yield None
        return
    from grader.judge import rubric  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)

    context = Context(
        sandbox=sandbox,
        devices=grading.available_devices(),
        seed=config.getoption("seed"),
        examples=rubric.load(config.getoption("rubric")).examples,
    )
    state["context"] = context
    yield context
    sandbox.close()


def run_rubric_test(request, rubric_test, context):
    """Run one rubric test; a failure fails the pytest test with the grader's verdict."""
    from .grading import _run  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)

    state = request.config.stash[_STATE]
    if context is None:
        result = TestResult(
            rubric_test.part,
            rubric_test.test,
            rubric_test.title,
            rubric_test.points,
            False,
            state.get("load_error") or _("the submission could not be loaded"),
        )
    else:
        result = _run(rubric_test, context)
        chosen = state["rubric"]
        if chosen is not None and rubric_test == [test for test in chosen.tests if test.part == rubric_test.part][-1]:
            from .grading import advice  # noqa: PLC0415 -- torch: once the zygote has started (pytest_configure)

            state["advice"] += advice([test for test in chosen.advice if test.part == rubric_test.part], context)
    state["results"].append(result)
    if not result.passed:
        pytest.fail(f"{result.title}\n{result.output}", pytrace=False)


def pytest_terminal_summary(terminalreporter, config):
    results = config.stash[_STATE]["results"] if _STATE in config.stash else []
    if not results:
        return
    terminalreporter.section(_("optimkit points"))
    for note in config.stash[_STATE].get("notes", ()):
        terminalreporter.write_line(_("Note: {note}").format(note=note))
    parts = {}
    for result in results:
        got, most = parts.get(result.part, (0.0, 0.0))
        parts[result.part] = (got + result.score, most + result.max_score)
    for part, (got, most) in parts.items():
        terminalreporter.write_line(f"{part:<12} {got:g} / {most:g}")
    total, most = sum(got for got, _most in parts.values()), sum(most for _got, most in parts.values())
    # Translators: the last line of the points per part; the column is 12 characters wide.
    label = _("total")
    terminalreporter.write_line(f"{_padded(label, 12)} {total:g} / {most:g}")
    for note in config.stash[_STATE]["advice"]:
        terminalreporter.write_line(note)


def _padded(text, width):
    """`text` padded to `width` columns of a terminal, where a Chinese character takes two."""
    columns = sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)
    return text + " " * max(0, width - columns)


def pytest_unconfigure(config):
    if _STATE in config.stash:
        config.stash[_STATE]["zygote"].close()
