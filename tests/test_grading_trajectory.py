"""Does the grader catch every form of the trajectory aliasing bug, and name the idiom and the fix?"""

import pytest
import torch
from grading_support import grade_text, replace_function, solution_source

from grader.explain.mistakes import Mistake, mutate
from grader.judge import compare
from grader.judge.trajectory_verdict import snapshot_idiom

TRAIN_F = """
def train_f(model, optimizer, x_init, epoch):
    import copy
    import numpy as np
    x = {start}
    all_x, losses = [], []
    for _ in range(epoch):
        {before}
        losses.append(model(x))
        model.backward()
        optimizer.step()
        x = model.params['x']
        {after}
    return {returned}, losses
"""

ALIASING = {  # snapshot -> the words the verdict must use for it
    "x": "the tensor x itself",
    "x.numpy()": "x.numpy()",
    "copy.copy(x)": "copy.copy(x)",
    "x.detach()": "x.detach()",
    "x.data": "x.data",
    "x[:]": "x[:]",
    "x.view(-1)": "x.view(...)",
    "torch.as_tensor(x)": "torch.as_tensor(x)",
    "np.asarray(x)": "np.asarray(x)",
    "x.cpu()": "x.cpu()",
}


def _train_f(
    snapshot="x.clone()",
    start="x_init.clone()",
    after_step=False,
    returned="torch.stack([torch.as_tensor(p) for p in all_x])",
):
    append = f"all_x.append({snapshot})"
    return TRAIN_F.format(
        start=start, before="" if after_step else append, after=append if after_step else "", returned=returned
    )


def _report(zygote, tmp_path, definition, enable=()):
    return grade_text(
        replace_function(solution_source(), "train_f", definition), tmp_path, zygote, "trajectory", enable=enable
    )


def _grade(zygote, tmp_path, definition):
    return {test.test: test for test in _report(zygote, tmp_path, definition).tests}


@pytest.mark.parametrize("snapshot", ALIASING)
def test_each_aliasing_snapshot_collapses_and_is_named(snapshot, zygote, tmp_path):
    tests = _grade(zygote, tmp_path, _train_f(snapshot=snapshot))
    assert tests["out_of_place"].passed, tests["out_of_place"].output  # SGD written out of place survives
    in_place = tests["in_place"]
    assert not in_place.passed and in_place.diagnosis == "trajectory_aliasing"
    assert ALIASING[snapshot] in in_place.output and "x.clone()" in in_place.output


def test_a_missing_initial_point_is_named(zygote, tmp_path):
    tests = _grade(zygote, tmp_path, _train_f(after_step=True))
    assert not tests["out_of_place"].passed and tests["out_of_place"].diagnosis == "missing_initial_point"


def test_a_trajectory_of_the_wrong_length_is_named(zygote, tmp_path):
    definition = _train_f(returned="torch.stack([torch.as_tensor(p) for p in all_x] + [x.clone()])")
    tests = _grade(zygote, tmp_path, definition)
    assert not tests["out_of_place"].passed and tests["out_of_place"].diagnosis == "wrong_length"


def test_an_empty_trajectory_is_named_as_such(zygote, tmp_path):
    """A train_f that records nothing gets the length verdict, not 'malformed data'."""
    tests = _grade(zygote, tmp_path, _train_f(returned="[]"))
    assert not tests["out_of_place"].passed and tests["out_of_place"].diagnosis == "wrong_length"
    assert "got none" in tests["out_of_place"].output


def test_updating_the_callers_x_init_is_advice_and_costs_nothing(zygote, tmp_path):
    report = _report(zygote, tmp_path, _train_f(start="x_init"))
    assert report.score == report.max_score == 5 and "x_init_untouched" not in {test.test for test in report.tests}
    assert "Advice, not graded" in report.output and "changed the caller's x_init" in report.output


def test_a_train_f_that_leaves_x_init_alone_gets_no_advice(zygote, tmp_path):
    assert "Advice" not in _report(zygote, tmp_path, _train_f()).output


def test_an_instructor_who_enables_the_x_init_item_grades_it(zygote, tmp_path):
    enable = ("trajectory/x_init_untouched",)
    tests = {test.test: test for test in _report(zygote, tmp_path, _train_f(start="x_init"), enable=enable).tests}
    assert tests["in_place"].passed and tests["out_of_place"].passed
    assert not tests["x_init_untouched"].passed and tests["x_init_untouched"].diagnosis == "x_init_mutated"
    report = _report(zygote, tmp_path, _train_f(), enable=enable)
    assert report.score == report.max_score == 6 and "Advice" not in report.output


def test_the_x_init_item_needs_a_right_trajectory_too(zygote, tmp_path):
    """Leaving x_init alone is no merit of a train_f that does not work: no point and no advice for it."""
    broken = _train_f(snapshot="x")  # the aliasing bug, with x_init cloned
    report = _report(zygote, tmp_path, broken, enable=("trajectory/x_init_untouched",))
    tests = {test.test: test for test in report.tests}
    assert not tests["in_place"].passed and not tests["x_init_untouched"].passed
    assert "Advice" not in _report(zygote, tmp_path, _train_f(snapshot="x", start="x_init")).output


_LOSS_FIRST = """def train_f(model, optimizer, x_init, epoch):
    x = x_init.clone()
    points, losses = [], []
    for _ in range(epoch):
        loss = model(x)
        losses.append(loss)
        points.append({snapshot})
        model.backward()
        optimizer.step()
        x = model.params['x']
    return torch.stack(points), torch.stack(losses)
"""


@pytest.mark.parametrize(
    "source, expected",
    [
        ("    all_x.append(x)\n", (True, "the tensor x itself")),
        ("    all_x.append(copy.copy(x.numpy()))  # a real copy\n", None),
        ("    points.append(model.params['x'].numpy())\n", (True, "x.numpy(), a numpy view of the same memory")),
        ("    all_x.append(x.clone())\n", (False, "x.clone()")),
        # Only appends to the returned trajectory list count: the loss recorded first is not the snapshot.
        (_LOSS_FIRST.format(snapshot="x.numpy()"), (True, "x.numpy(), a numpy view of the same memory")),
        (_LOSS_FIRST.format(snapshot="x.float()"), None),  # no known idiom: name none, never `loss`'s
    ],
)
def test_snapshot_idioms_are_read_from_the_source(source, expected):
    assert snapshot_idiom(source) == expected


# --- what train_f meets, and what it is told (issue 22)

MODEL_METHODS = """
def train_f(model, optimizer, x_init, epoch):
    x = x_init.clone()
    all_x, losses = [], []
    for _ in range(epoch):
        all_x.append(x.clone())
        losses.append(model.f(x))  # the assignment's models all offer f and gradient
        model.params['x'] = x
        model.grads['x'] = model.gradient(x)
        optimizer.step()
        x = model.params['x']
    return torch.stack(all_x), torch.stack(losses)
"""

LOSS_AFTER_STEP = """
def train_f(model, optimizer, x_init, epoch):
    x = x_init.clone()
    all_x, losses = [], []
    for _ in range(epoch):
        all_x.append(x.clone())
        model(x)
        model.backward()
        optimizer.step()
        x = model.params['x']
        losses.append(model(x))  # the loss of the new point, not of the recorded one
    return torch.stack(all_x), torch.stack(losses)
"""


def test_a_train_f_that_uses_the_models_f_and_gradient_gets_full_marks(zygote, tmp_path):
    report = _report(zygote, tmp_path, MODEL_METHODS)
    assert report.score == report.max_score, [test.output for test in report.tests]


def test_losses_recorded_after_the_step_fail_and_say_so(zygote, tmp_path):
    tests = _grade(zygote, tmp_path, LOSS_AFTER_STEP)
    for name in ("out_of_place", "in_place"):
        assert not tests[name].passed and tests[name].diagnosis == "loss_after_step", tests[name].output
        assert "before optimizer.step()" in tests[name].output


def test_copies_of_x_init_are_a_constant_trajectory_not_aliasing(zygote, tmp_path):
    tests = _grade(zygote, tmp_path, _train_f(snapshot="x_init.clone()"))
    for name in ("out_of_place", "in_place"):
        assert not tests[name].passed and tests[name].diagnosis == "constant_trajectory", tests[name].output
        assert "shallow copy" not in tests[name].output and "every recorded point is x_init" in tests[name].output


def test_a_missing_read_back_of_model_params_is_pointed_to(zygote, tmp_path):
    definition = TRAIN_F.format(
        start="x_init.clone()", before="all_x.append(x.clone())", after="", returned="torch.stack(all_x)"
    ).replace("        x = model.params['x']\n", "")
    assert "model.params" not in definition
    tests = _grade(zygote, tmp_path, definition)
    out_of_place = tests["out_of_place"]
    assert not out_of_place.passed and out_of_place.diagnosis == "constant_trajectory"
    assert "x = model.params['x']" in out_of_place.output


def test_a_flat_trajectory_is_reported_with_its_own_shape(zygote, tmp_path):
    tests = _grade(zygote, tmp_path, _train_f(returned="torch.cat(all_x)"))
    output = tests["out_of_place"].output
    assert not tests["out_of_place"].passed and "got [40]" in output and "[40, 1]" not in output


def test_the_gradient_in_place_hint_speaks_of_the_rules_own_terms(zygote, tmp_path):
    mutant = Mistake(
        "momentum",
        "scales_gradient",
        "(t)",
        "(t).",
        "momentum",
        """
        gradient_x *= init_lr  # changes model.grads
        delta_x = self.rho * delta_x - gradient_x
        return x + delta_x, delta_x
        """,
    )
    report = grade_text(mutate(solution_source(), mutant), tmp_path, zygote, "momentum")
    invariants = next(test for test in report.tests if test.test == "invariants")
    assert not invariants.passed and "changes gradient_x in place" in invariants.output
    assert "G = G" not in invariants.output and "the new delta_x as a new tensor" in invariants.output
    assert "delta_x = rho * delta_x - init_lr * gradient_x" not in invariants.output  # a hint, not the solution


def test_values_are_shown_with_the_digits_that_tell_them_apart():
    assert compare.distinct(0.45000123, 0.44999812) == ("0.450001", "0.449998")
    expected, got = -0.8720308951234, -0.8720308958765
    shown = compare.distinct(expected, got, 9)
    assert shown[0] != shown[1] and float(shown[0]) == pytest.approx(expected, rel=1e-8)
    message = compare.problem_with_tensor(
        compare.WireTensor(torch.tensor([got], dtype=torch.float64), "cpu", "Tensor"),
        torch.tensor([expected], dtype=torch.float64),
        "x",
    )
    first, second = message.split("should be ")[1].split(" (")[0].split(", got ")
    assert first != second
