"""Does every known mistake lose points in its own part, and get named, in a .py and in a notebook?"""

import pytest
from grading_support import as_notebook, grade_text, solution_source, validate

from grader.explain.mistakes import BANK, mutate
from grader.sandbox.client import Sandbox

pytestmark = pytest.mark.mutants  # all 76 mistakes of the bank, each as a .py and as a notebook

MISTAKES = [mistake for mistakes in BANK.values() for mistake in mistakes]


@pytest.mark.parametrize("form", ["py", "ipynb"])
@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda mistake: mistake.key)
def test_the_mistake_costs_its_part_and_is_named(mistake, form, zygote, tmp_path):
    """Its own part loses points, another part none; it is named, and every failed test of the part that
    names a mistake names this one (the probes in the sandbox confirm a name; a wrong one is never given)."""
    source = mutate(solution_source(), mistake)
    text, name = (source, "optimizers.py") if form == "py" else (as_notebook(source), "optimizers.ipynb")
    # Its own part, and one other that must stay untouched.
    other = "trajectory" if mistake.rule != "adam" else "adagrad"
    report = grade_text(text, tmp_path, zygote, mistake.rule, other, name=name)
    scores = report.part_scores()
    assert scores[mistake.rule][0] < scores[mistake.rule][1], f"{mistake.key} got full marks"
    assert scores[other][0] == scores[other][1], f"{mistake.key} cost points in {other}"
    # Names from grader.explain.diagnosis; the invariants test labels side effects itself ("gradient_mutated", and
    # "t_shared_across_keys" from reading opt.t, which is being replaced by a behavioural check).
    named = {
        slug
        for test in report.tests
        if test.part == mistake.rule and not test.passed and test.test != "invariants"
        for slug in (test.diagnosis, *test.alternatives)
        if slug
    }
    assert named == {mistake.slug}, (mistake.key, named, [test.output for test in report.tests if not test.passed])
    validate(report)


def test_the_probes_cost_one_round_trip_per_failed_test(zygote, tmp_path, monkeypatch):
    """Diagnosis runs once, for the reported counterexample (not for every example hypothesis shrinks
    through), and sends its probes in one batch: as many batches as failed tests with a diagnosis."""
    batches = []
    original = Sandbox.call_many

    def counting(self, prepared, *args, **kwargs):
        batches.append(len(prepared))
        return original(self, prepared, *args, **kwargs)

    monkeypatch.setattr(Sandbox, "call_many", counting)
    mistake = next(known for known in BANK["rmsprop"] if known.slug == "old_state")
    report = grade_text(mutate(solution_source(), mistake), tmp_path, zygote, "rmsprop")
    diagnosed = [test for test in report.tests if "Likely mistake:" in test.output or "Diagnosis:" in test.output]
    assert diagnosed and len(batches) == len(diagnosed)
    assert all(size <= 6 for size in batches)
