"""Batch grading's replay: the solution's examples recorded once, held decoded by the zygote, and replayed
on every student; each shortcut must give what the plain way gives."""

import textwrap
from pathlib import Path

import pytest
from grading_support import Variant, replace_function, solution_source
from test_grading_forged_facts import STATE_ALIASES_GRADIENT, T_PER_KEY
from test_grading_variants import TRAIN_F

from grader import defaults
from grader.batch import recording
from grader.batch.runner import preloads
from grader.explain.mistakes import find, mutate
from grader.grading import grade
from grader.inputs import submission as submission_module
from grader.inputs.discover import Entry
from grader.judge import properties
from grader.judge import rubric as rubric_module
from grader.sandbox.client import CallFailed, Sandbox


@pytest.fixture(scope="module")
def recorded():
    return recording.record(rubric_module.load(defaults.RUBRIC), defaults.SEED, ("cpu",), jobs=2)


@pytest.mark.classes
def test_recording_in_several_processes_records_what_one_does(recorded):
    alone = recording.record(rubric_module.load(defaults.RUBRIC), defaults.SEED, ("cpu",), jobs=1)
    assert sorted(alone) == sorted(recorded) and len(recorded) == 18
    for test, one in alone.items():
        assert one.prepared == recorded[test].prepared and one.answers == recorded[test].answers, test
        assert len(one.cases) == len(recorded[test].cases)


def test_a_recording_process_that_fails_stops_the_recording_with_the_reason(monkeypatch):
    def broken(*args):
        raise ValueError("a bug while recording")

    monkeypatch.setattr(recording, "_record_tests", broken)  # the forked processes inherit it
    with pytest.raises(recording.RecordingError, match="ValueError: a bug while recording"):
        recording.record(rubric_module.load(defaults.RUBRIC), defaults.SEED, ("cpu",), jobs=2)


def _sandbox(lane, source, tmp_path):
    path = tmp_path / "optimizers.py"
    path.write_text(source)
    return Sandbox(lane, list(submission_module.read(path).chunks))


@pytest.mark.classes
def test_held_calls_give_the_answers_sent_calls_give(zygote, recorded, tmp_path):
    lane = zygote.sibling()  # a zygote of its own: the session's stays as it was
    try:
        assert lane.hold_replay({test: one.prepared for test, one in recorded.items()}) == set(recorded)
        test = "adagrad/single_step"
        with _sandbox(lane, solution_source(), tmp_path) as solution:
            # The solution answers byte for byte as recorded: the recorded answers come back unparsed.
            assert solution.replay(test, recorded[test]) is recorded[test].answers
        buggy = mutate(solution_source(), find("adagrad", "gradient_squared_in_place"))
        with _sandbox(lane, buggy, tmp_path) as student:
            held = student.replay(test, recorded[test])
            assert held is not recorded[test].answers and held != recorded[test].answers
            assert held == student.call_many(recorded[test].prepared, decode=False)
            # A second replay in the same process would run on inputs the first may have changed: refused.
            with pytest.raises(CallFailed, match="no such calls"):
                student.replay(test, recorded[test])
    finally:
        lane.close()


@pytest.mark.parametrize(
    "text, wanted",
    [
        ("import matplotlib.pyplot as plt\n", True),
        ("import torch\nfrom matplotlib import pyplot\n", True),
        ('{"source": ["import numpy as np\\n", "import matplotlib.pyplot as plt\\n"]}', True),  # a notebook
        ("def draw():\n    import matplotlib.pyplot as plt\n", False),  # the stub's way: never runs when graded
        ('{"source": ["def draw():\\n", "    from matplotlib.figure import Figure\\n"]}', False),
        ("# matplotlib is imported when drawing\n", False),
    ],
    ids=["py", "from", "notebook", "in-a-function", "notebook-function", "comment"],
)
def test_matplotlib_is_preloaded_only_for_a_class_that_imports_it(text, wanted, tmp_path):
    path = tmp_path / "student.py"
    path.write_text(text)
    other = tmp_path / "other.py"
    other.write_text("import torch\n")
    entries = [
        Entry(student=name, name=name, path=file, error=None, layout="plain")
        for name, file in (("other", other), ("student", path))
    ]
    assert preloads(entries) == (("matplotlib.pyplot",) if wanted else ())


def test_the_bundled_stub_needs_no_preload():
    stub = Path(__file__).resolve().parents[1] / "assignments" / "optimizers.py"
    assert preloads([Entry(student="s", name="s", path=stub, error=None, layout="plain")]) == ()


@pytest.mark.classes
def test_answers_that_differ_in_the_last_bits_pass_replay_without_going_live(zygote, recorded, tmp_path, monkeypatch):
    """Another order of operations: no reply equals the solution's, each differing case is judged on
    the replayed answers, and hypothesis never has to run."""

    def live(*args):
        raise AssertionError("replay failed and the test went live")

    monkeypatch.setattr(properties, "_hypothesis", live)

    other_order = Variant(
        "rmsprop",
        "rmsprop",
        """
        G = (1 - self.beta) * gradient_x ** 2 + self.beta * G
        step = gradient_x / (G + self.epsilon) ** 0.5
        return x - init_lr * step, G
    """,
    )
    path = tmp_path / "optimizers.py"
    path.write_text(mutate(solution_source(), other_order))
    lane = zygote.sibling()
    try:
        lane.hold_replay({test: one.prepared for test, one in recorded.items()})
        with _sandbox(lane, path.read_text(), tmp_path) as student:
            assert (
                student.replay("rmsprop/single_step", recorded["rmsprop/single_step"])
                != recorded["rmsprop/single_step"].answers
            )  # the case-by-case path is the one taken
        rubric = rubric_module.load(defaults.RUBRIC)
        report = grade(path, zygote=lane, rubric=rubric, seed=defaults.SEED, devices=("cpu",), replay=recorded)
        assert all(test.passed for test in report.tests), [test.output for test in report.tests if not test.passed]
    finally:
        lane.close()


@pytest.mark.classes
@pytest.mark.parametrize("name", ["state-aliases-gradient", "gradient-mutated", "t-per-key", "course-train-f"])
def test_invariants_and_advice_replayed_give_what_live_grading_gives(name, zygote, recorded, tmp_path):
    """The invariants' values (gradients after each step, arguments after a call, the caller's x_init)
    travel in the answers, so replay judges them as a live run does, advice included."""
    source = solution_source()
    if name == "course-train-f":
        source = replace_function(
            source, "train_f", TRAIN_F.format(start="x_init", snapshot="copy.deepcopy(x.numpy())", returned="all_x")
        )
    elif name == "gradient-mutated":
        source = mutate(source, find("adagrad", "gradient_squared_in_place"))
    else:
        variant = STATE_ALIASES_GRADIENT if name == "state-aliases-gradient" else T_PER_KEY
        source = mutate(source, Variant(variant.rule, variant.method, textwrap.dedent(variant.body)))
    path = tmp_path / "optimizers.py"
    path.write_text(source)
    rubric = rubric_module.load(defaults.RUBRIC)
    lane = zygote.sibling()
    try:
        lane.hold_replay({test: one.prepared for test, one in recorded.items()})
        replayed = grade(path, zygote=lane, rubric=rubric, seed=defaults.SEED, devices=("cpu",), replay=recorded)
    finally:
        lane.close()
    live = grade(path, zygote=zygote, rubric=rubric, seed=defaults.SEED, devices=("cpu",))
    verdicts = [(test.test, test.passed, test.output, test.diagnosis) for test in live.tests]
    assert [(test.test, test.passed, test.output, test.diagnosis) for test in replayed.tests] == verdicts
    assert replayed.output == live.output and replayed.score == live.score
    assert live.score < live.max_score or "Advice, not graded" in live.output


FAILS_SLOWLY = """
def _fails(self, *arguments):
    print("CALLED")  # one line per call that ran: what the test counts
    raise MemoryError("as if it had filled its memory, which takes seconds a call")


Adagrad.adagrad = _fails
"""


@pytest.mark.classes
@pytest.mark.parametrize("held", [True, False], ids=["held", "sent"])
def test_a_replay_runs_nothing_after_a_call_that_failed(held, zygote, recorded, tmp_path):
    """The grader uses no answer after a replayed call that failed (it grades that test live), so the
    calls after it are skipped: a part that fails slowly once a call (a memory hog: seconds each) once
    spent the batch's whole time limit on every test, and with it the budget of the parts that work."""
    lane = zygote.sibling()
    try:
        test = "adagrad/single_step"
        if held:
            assert test in lane.hold_replay({test: recorded[test].prepared})
        assert len(recorded[test].prepared) > 1
        with _sandbox(lane, solution_source() + FAILS_SLOWLY, tmp_path) as student:
            answers = student.replay(test, recorded[test])
            assert len(answers) == len(recorded[test].prepared)
            assert student.output_sample.count("CALLED") == 1
            assert not any(answer["ok"] for answer in student.decode_answers(answers))
    finally:
        lane.close()


WAITS = """
import time


def _waits(self, *arguments):
    time.sleep(1000)  # no CPU time used: only a wall-clock bound ends it


RMSprop.rmsprop = _waits
"""


@pytest.mark.attacks  # waits out a part's deadline
def test_a_part_that_waits_forever_gets_the_live_verdict_from_the_replay(zygote, recorded, tmp_path):
    """A call that sleeps is stopped in the sandbox by its wall-clock bound, and a replayed one gives the
    part the verdict live grading gives, at once: a batch once waited for the replay's whole time limit
    and then again live, per part, and ran out of the submission's budget where `check` did not."""
    path = tmp_path / "optimizers.py"
    path.write_text(solution_source() + WAITS)
    rubric = rubric_module.load(defaults.RUBRIC)
    lane = zygote.sibling()
    try:
        lane.hold_replay({test: one.prepared for test, one in recorded.items()})
        replayed = grade(
            path, zygote=lane, rubric=rubric, seed=defaults.SEED, devices=("cpu",), replay=recorded, budget=60
        )
    finally:
        lane.close()
    live = grade(path, zygote=zygote, rubric=rubric, seed=defaults.SEED, devices=("cpu",), budget=60)
    verdicts = [(test.test, test.passed, test.output) for test in live.tests]
    assert [(test.test, test.passed, test.output) for test in replayed.tests] == verdicts
    waited = [test for test in live.tests if test.part == "rmsprop"]
    assert waited and not any(test.passed for test in waited)
    assert all("by the wall clock" in test.output for test in waited), [test.output for test in waited]
    assert all(test.passed for test in live.tests if test.part in ("adagrad", "momentum", "adam"))
    assert replayed.status == live.status == "graded"
