"""Trusted side: the checks of the student's train_f, above all the trajectory aliasing bug.

train_f runs in the sandbox on the assignment's bowl f(x) = sum(w x²) (a model that offers what
`OptimizedFunction` offers: params/grads, calling it, backward, f and gradient) with two plain SGD
optimizers, one that updates x in place and one that makes a new tensor each step. What is wrong with
what it recorded, and why, is trajectory_verdict.py's, which the student's self-check runs too; this
module draws the cases, calls the sandbox, and reads train_f's text from the submission's own file (never
the sandbox's word) for the messages that name how the points were recorded.
"""

import torch
from hypothesis import strategies as st

from grader.i18n import N_, _
from reference import OptimizedFunction, SimpleBatchGD, train_f

from . import compare
from .properties import CheckFailure, NotJudged, answer, expected, require, run_property
from .trajectory_verdict import MISTAKES, NOT_JUDGED, failure, train_f_source, trajectory_problem, x_init_problem

__all__ = ["MISTAKES", "TRAJECTORY_CHECKS"]


#: What `require` names when train_f is missing: "your file defines no `train_f`, which the trajectory part needs."
TRAJECTORY_PART = N_("the trajectory part")


@st.composite
def cases(draw, devices):
    size = draw(st.integers(1, 3))
    values = st.floats(-5, 5, width=32, allow_subnormal=False).filter(lambda value: abs(value) > 0.1)
    return {
        "w": torch.tensor(draw(st.lists(st.sampled_from([0.2, 0.5, 1.0, 2.0]), min_size=size, max_size=size))),
        "x_init": torch.tensor(draw(st.lists(values, min_size=size, max_size=size))),
        "init_lr": draw(st.sampled_from([0.05, 0.1, 0.2])),
        "epoch": draw(st.integers(2, 25)),
        "device": draw(st.sampled_from(devices)),
    }


FIRST_CASE = {
    "w": torch.tensor([0.2, 2.0]),
    "x_init": torch.tensor([3.0, 4.0]),
    "init_lr": 0.1,
    "epoch": 20,
    "device": "cpu",
}


def _expected(case):
    """The reference train_f's (points, losses) on the case."""
    model = OptimizedFunction(case["w"])
    return train_f(model, SimpleBatchGD(case["init_lr"], model), case["x_init"], case["epoch"])


def _call(ctx, case, in_place):
    got = ctx.call(
        "trajectory",
        "train_f",
        "trajectory",
        in_place=in_place,
        w=case["w"],
        x_init=case["x_init"],
        init_lr=case["init_lr"],
        epoch=case["epoch"],
        device=case["device"],
    )
    return answer(got, "train_f", "points", "returned_type", "x_init_after")


def _problem(got, expected, in_place, source=""):
    """trajectory_verdict.trajectory_problem on what the sandbox sent; expected: the reference's (points,
    losses)."""
    points, losses = expected
    return trajectory_problem(
        compare.received(got),
        compare.as_array(points).array,
        compare.as_array(losses).array,
        in_place,
        source,
    )


def _trajectory_check(ctx, in_place):
    require(ctx, "train_f", _(TRAJECTORY_PART))

    def body(case):
        got = _call(ctx, case, in_place)
        source = lambda: train_f_source(getattr(ctx.sandbox, "chunks", None) or [])  # noqa: E731 - read if needed
        problem, slug = _problem(got, expected(case, "reference", lambda: _expected(case)), in_place, source)
        if problem:
            shown = dict(case, w=case["w"].tolist(), x_init=case["x_init"].tolist())
            raise CheckFailure(failure(in_place, shown, problem), diagnosis=slug)

    run_property(
        ctx, "trajectory", "in_place" if in_place else "out_of_place", cases(ctx.devices), body, first=dict(FIRST_CASE)
    )


def check_out_of_place(ctx, rule=None):
    _trajectory_check(ctx, in_place=False)


def check_in_place(ctx, rule=None):
    _trajectory_check(ctx, in_place=True)


def check_x_init_untouched(ctx, rule=None):
    """train_f leaves the caller's x_init as it was, with an optimizer that updates in place.

    The unit does not ask for it (the course's own train_f starts from `x = x_init`), so the shipped
    rubric gives it no points: it runs as advice. The trajectory must be right too, so that nothing but a
    working train_f can pass it: the caller's tensor is the one value here that the submission reports.
    """
    try:
        require(ctx, "train_f", _(TRAJECTORY_PART))
        got = _call(ctx, FIRST_CASE, in_place=True)
    except CheckFailure as failure:
        raise NotJudged(failure.message) from None
    problem, _slug = _problem(got, _expected(FIRST_CASE), in_place=True)
    if problem:
        raise NotJudged(_(NOT_JUDGED))
    problem = x_init_problem(compare.received(got["x_init_after"]), FIRST_CASE["x_init"].tolist())
    if problem:
        raise CheckFailure(problem, diagnosis="x_init_mutated")


#: Each test's title, marked here and translated where it is shown (rubric.RubricTest.title).
TRAJECTORY_CHECKS = {
    "out_of_place": (check_out_of_place, N_("train_f records the trajectory (optimizer updating out of place)")),
    "in_place": (check_in_place, N_("train_f records the trajectory (optimizer updating in place)")),
    "x_init_untouched": (check_x_init_untouched, N_("train_f leaves the caller's x_init unchanged")),
}
