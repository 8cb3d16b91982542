"""Trusted side: the invariants check of the optimizer parts, as CheckFailure with a student-facing message.

step() must leave model.grads alone, keep no state tied to them, keep each parameter's dtype and device,
and advance t once per step(). Each is judged from the values the submission returns, with the
parameters required to match the reference too (the single-step and sequence checks are in checks.py).
What each finding says is step_verdicts.py's, which the student's self-check runs too; this module
draws the cases, calls the sandbox and finds the cause.
"""

import torch

from . import compare, strategies
from .checks import (
    _call_per_key,
    _diagnose_sequence,
    _run_steps,
    _sequence_problem,
    _single_step_problem,
    reference_steps,
)
from .properties import CheckFailure, expected, require, run_property
from .step_verdicts import (
    gradient_changed,
    sequence_values_too,
    single_values_too,
    state_aliases_gradient,
    step_kind_problem,
    unchanged,
    where,
)


def check_invariants(ctx, rule):
    """step() leaves model.grads alone, keeps no state tied to them, keeps dtype and device, advances t once
    per step(): each judged here from values, with the parameters required to match the reference.

    Only values cross from the submission, never a conclusion drawn there (its code can patch the code
    that would draw it). Gradients are written into the same tensors every step, as autograd does, so
    state that shares memory with a gradient shows as wrong parameters; gradients changed in place show
    as values that differ from those sent; t's advance shows in the parameters of several keys.
    """
    require(ctx, rule.class_name, rule.title)

    def body(case):
        single = _as_single_step(rule, case)
        got = _call_per_key(ctx, rule, single, report_arguments=True)
        after = got["arguments"]
        sent = compare.as_array(single["gradient_x"], device="cpu")
        if not isinstance(after, list) or len(after) < 2 or not unchanged(compare.received(after[1]), sent):
            raise CheckFailure(gradient_changed(rule.part, rule.class_name, rule.method), diagnosis="gradient_mutated")
        wanted = expected(
            case,
            "the reference's single step",
            lambda: rule.reference_update(
                single["x"], single["gradient_x"], single["state"], single["init_lr"], single["hyper"]
            ),
        )
        problem = _single_step_problem(rule, single, got["result"], wanted)
        if problem:
            raise CheckFailure(single_values_too(rule.title, rule.method, problem))
        steps = _run_steps(ctx, rule, case, gradients_in_place=True, report_gradients=True)
        for k, observed in enumerate(steps if isinstance(steps, list) else [], start=1):
            _require_grads_and_kind(rule, case, k, observed)
        found = _sequence_problem(
            steps, expected(case, "the reference", lambda: reference_steps(rule, case)), rule=rule, case=case
        )
        if found:
            raise _invariants_failure(ctx, rule, case, steps, found)

    run_property(
        ctx,
        rule.part,
        "invariants",
        strategies.sequences(rule, ctx.devices, max_steps=3),
        body,
        first=_invariants_example(rule),
    )


def _require_grads_and_kind(rule, case, k, observed):
    """Step k left every gradient as sent, and every parameter in its dtype and on its device."""
    sent = case["gradients"][k - 1] if k <= len(case["gradients"]) else {}
    found = step_kind_problem(
        rule.class_name,
        k,
        compare.received(observed),
        {key: compare.as_array(value, device="cpu") for key, value in sent.items()},
        {key: str(value.dtype).replace("torch.", "") for key, value in case["params"].items()},
        case["device"],
    )
    if found:
        raise CheckFailure(found[0], diagnosis=found[1])


def _invariants_failure(ctx, rule, case, steps, found):
    """The failure for parameters off the reference when gradients are rewritten in place, with the cause
    only where this case shows it: right when each gradient is a new tensor (state shares memory with a
    gradient), or a known mistake that the parameters match (e.g. t advanced once per key)."""
    k, problem = found
    run = where(
        len(case["gradients"]),
        {key: value.shape for key, value in case["params"].items()},
        case["dtype"],
        case["device"],
    )
    reference = expected(case, "the reference", lambda: reference_steps(rule, case))
    # From step 2 on, parameters off only when gradients are written in place: state that the write changed.
    if k > 1 and _sequence_problem(_run_steps(ctx, rule, case), reference, rule=rule, case=case) is None:
        return CheckFailure(
            state_aliases_gradient(rule.title, run, problem, rule.class_name), diagnosis="state_aliases_gradient"
        )
    return CheckFailure(
        sequence_values_too(rule.title, run, problem), pending=lambda: _diagnose_sequence(ctx, rule, case, steps)
    )


def _as_single_step(rule, case):
    key = next(iter(case["params"]))
    state = [1 if name == "t" else 0 for name in rule.state]
    return {
        "x": case["params"][key],
        "gradient_x": case["gradients"][0][key],
        "state": state,
        "init_lr": case["init_lr"],
        "hyper": case["hyper"],
        "device": case["device"],
    }


def _invariants_example(rule):
    """Two keys, three steps, typical hyperparameters: t's advance and state tied to a gradient both show."""
    hyper = {"epsilon": 1e-7, "beta": 0.9, "beta1": 0.9, "beta2": 0.99, "rho": 0.9}
    gradients = [[0.5, -1.5, 2.0, 0.25], [-2.0, 0.75, 1.0, -0.5], [1.25, 0.5, -0.75, 3.0]]
    return {
        "params": {"W": torch.tensor([[1.0, -2.0], [0.5, 3.0]]), "b": torch.tensor([0.25, -1.0])},
        "gradients": [{"W": torch.tensor(g).reshape(2, 2), "b": torch.tensor(g[1:3]) * -0.5} for g in gradients],
        "init_lr": 0.1,
        "hyper": tuple(hyper[name] for name in rule.hyper),
        "dtype": "float32",
        "device": "cpu",
    }
