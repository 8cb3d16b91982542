"""Does each hostile submission get its due verdict, while the grader and every other part survive?"""

import textwrap

import pytest
from grading_support import OPTIMIZER_PARTS, Variant, grade_text, solution_source, validate

from grader.explain.mistakes import find, mutate

# Each hostile submission graded in the real sandbox, and the grader surviving them all.
pytestmark = pytest.mark.attacks


def _with_adam(body):
    return mutate(solution_source(), Variant("adam", "adam", textwrap.dedent(body)))


HOSTILE = {
    # name: (source builder, parts that must lose everything, words the verdict must contain)
    "exit-at-import": (
        lambda: (
            "import sys\nclass Adagrad:\n    sys.exit(3)\n"
            + solution_source().replace("class Adagrad(", "class _Old(", 1)
        ),
        ("adagrad",),
        "defines no `Adagrad`",
    ),
    "os-exit-in-a-method": (lambda: _with_adam("import os\nos._exit(0)"), ("adam",), "the process ended"),
    "infinite-loop": (lambda: _with_adam("while True:\n    pass"), ("adam",), "did not finish"),
    # torch.empty: the address space is what the limit counts; filling it (torch.ones) made the verdict
    # depend on how fast this machine faults 2 GB in (over 5 s on a fresh VM: a timeout verdict instead).
    "memory-hog": (lambda: _with_adam("hog = [torch.empty(2**28) for _ in range(64)]"), ("adam",), "memory"),
    "keyboard-interrupt": (lambda: _with_adam("raise KeyboardInterrupt"), ("adam",), "KeyboardInterrupt"),
    "sys-exit-in-a-method": (lambda: _with_adam("import sys\nsys.exit(0)"), ("adam",), "must not exit"),
}

COMPARISON_PATCH = """
import numpy, torch
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
"""

LYING_TENSOR = """
class AlwaysEqual(torch.Tensor):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
"""


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_submission_loses_only_its_part(name, zygote, tmp_path):
    build, lost, words = HOSTILE[name]
    report = grade_text(build(), tmp_path, zygote, *OPTIMIZER_PARTS, "trajectory")
    scores = report.part_scores()
    for part, (score, most) in scores.items():
        if part in lost:
            assert score == 0, (name, part)
            assert any(words.lower() in test.output.lower() for test in report.tests if test.part == part), (
                name,
                [test.output[:300] for test in report.tests if test.part == part],
            )
        else:
            assert score == most, (name, part, [test.output[:200] for test in report.tests if test.part == part])
    validate(report)


FLOODING_STEP = """
print("spam " * 10**5)
next_t = self.t
for key in self.model.params:
    self.model.params[key], self.G[key], self.M[key], next_t = self.adam(
        self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr)
self.t = next_t
"""


def test_a_flood_of_output_is_reported_and_costs_nothing(zygote, tmp_path):
    report = grade_text(mutate(solution_source(), Variant("adam", "step", FLOODING_STEP)), tmp_path, zygote, "adam")
    assert report.score == report.max_score
    assert "characters while it was graded" in report.output and "spam spam" in report.output


def test_patching_the_comparison_functions_changes_nothing(zygote, tmp_path):
    buggy = mutate(solution_source(), find("adam", "no_bias_correction"))
    report = grade_text(COMPARISON_PATCH + buggy, tmp_path, zygote, "adam", "adagrad")
    assert report.part_scores()["adam"][0] < 10 and report.part_scores()["adagrad"][0] == 10


def test_a_tensor_that_claims_equality_is_judged_by_its_values(zygote, tmp_path):
    lying = LYING_TENSOR + _with_adam("""
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        return (x * 0 + 42).as_subclass(AlwaysEqual), G, M, t + 1
    """)
    report = grade_text(lying, tmp_path, zygote, "adam")
    single = next(test for test in report.tests if test.test == "single_step")
    assert not single.passed and "AlwaysEqual" in single.output


@pytest.mark.parametrize(
    "source, words",
    [("def broken(:\n", "SyntaxError"), ("", "defines no `"), ("\x00\x01 binary", "defines no `")],
    ids=["syntax-error", "empty-file", "binary-junk"],
)
def test_an_unusable_file_scores_zero_with_a_reason(source, words, zygote, tmp_path):
    report = grade_text(source, tmp_path, zygote)
    assert report.score == 0
    assert all(words in test.output or words in report.output for test in report.tests)
    validate(report)


def test_the_grader_survives_them_all(zygote, tmp_path):
    """After every hostile submission above, a correct one still gets full marks from the same worker."""
    report = grade_text(solution_source(), tmp_path, zygote, "adam", "trajectory")
    assert report.score == report.max_score
