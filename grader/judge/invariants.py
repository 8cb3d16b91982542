"""Trusted side: the invariants check of the optimizer parts, as CheckFailure with a student-facing message.

step() must leave model.grads alone, keep no state tied to them, keep each parameter's dtype and device,
and advance t once per step(). Each is judged here from the values the submission returns, with the
parameters required to match the reference too (the single-step and sequence checks are in checks.py).
"""

import torch

from grader.i18n import N_, _

from . import compare, strategies
from .checks import (
    _call_per_key,
    _calls,
    _diagnose_sequence,
    _run_steps,
    _sequence_problem,
    _single_step_problem,
    reference_steps,
)
from .properties import CheckFailure, expected, require, run_property


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
        if not isinstance(after, list) or len(after) < 2 or not _unchanged(after[1], single["gradient_x"]):
            raise CheckFailure(
                _("{qualname}() changes gradient_x in place; it must only read it ({hint})").format(
                    qualname=f"{rule.class_name}.{rule.method}",
                    hint=_(_READ_ONLY_HINT.get(rule.part, _READ_ONLY_HINT["adagrad"])),
                ),
                diagnosis="gradient_mutated",
            )
        wanted = expected(
            case,
            "the reference's single step",
            lambda: rule.reference_update(
                single["x"], single["gradient_x"], single["state"], single["init_lr"], single["hyper"]
            ),
        )
        problem = _single_step_problem(rule, single, got["result"], wanted)
        if problem:
            raise CheckFailure(
                _(
                    "{title}, one call of {method}(): {problem}. This test requires right values too (see the "
                    "single_step test)."
                ).format(title=rule.title, method=rule.method, problem=problem)
            )
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


# How to leave gradient_x alone, in each rule's own terms (it is model.grads[key]). Said without the rule's
# own lines: a hint names what to change, never the solution (the release's scan holds the bundle to it).
_READ_ONLY_HINT = {
    "adagrad": N_(
        "square gradient_x into a new tensor (gradient_x * gradient_x or gradient_x ** 2) and add that to G, "
        "never gradient_x *= ... or gradient_x **= 2"
    ),
    "rmsprop": N_(
        "square gradient_x into a new tensor (gradient_x * gradient_x or gradient_x ** 2) for the moving "
        "average of G, never gradient_x *= ... or gradient_x **= 2"
    ),
    "adam": N_("use new names (M = ..., G = ...) built from gradient_x, never gradient_x *= ... or gradient_x **= 2"),
    "momentum": N_(
        "build the new delta_x as a new tensor from gradient_x, never gradient_x *= init_lr or gradient_x -= ..."
    ),
    "nesterov": N_(
        "build the new delta_x as a new tensor from gradient_x, never gradient_x *= init_lr or gradient_x -= ..."
    ),
}


def _require_grads_and_kind(rule, case, k, observed):
    """Step k left every gradient as sent, and every parameter in its dtype and on its device."""
    observed = observed if isinstance(observed, dict) else {}
    grads, params = observed.get("grads"), observed.get("params")
    sent = case["gradients"][k - 1] if k <= len(case["gradients"]) else {}
    broken = sorted(key for key in sent if not isinstance(grads, dict) or not _unchanged(grads.get(key), sent[key]))
    if broken:
        raise CheckFailure(
            _("{qualname} changed {grad} at step {k}: the optimizer must not modify gradients").format(
                qualname=f"{rule.class_name}.step()", grad=f"model.grads[{broken[0]!r}]", k=k
            ),
            diagnosis="gradient_mutated",
        )
    for key, value in params.items() if isinstance(params, dict) else ():
        if isinstance(value, compare.WireTensor) and key in case["params"]:
            if value.tensor.dtype != case["params"][key].dtype:
                raise CheckFailure(
                    _("step() turned {param} from {dtype} into {got}; keep the parameter's dtype").format(
                        param=f"model.params[{key!r}]",
                        dtype=case["dtype"],
                        got=str(value.tensor.dtype).replace("torch.", ""),
                    )
                )
            if value.device.split(":")[0] != case["device"]:
                raise CheckFailure(
                    _("step() moved {param} from {device} to {got}").format(
                        param=f"model.params[{key!r}]", device=case["device"], got=value.device
                    )
                )


def _unchanged(got, sent):
    """Whether `got` (as received) holds exactly the values of the tensor `sent`, in its dtype and shape."""
    return (
        isinstance(got, compare.WireTensor)
        and got.tensor.dtype == sent.dtype
        and tuple(got.tensor.shape) == tuple(sent.shape)
        and bool(torch.equal(got.tensor, sent.cpu()))
    )


def _invariants_failure(ctx, rule, case, steps, found):
    """The failure for parameters off the reference when gradients are rewritten in place, with the cause
    only where this case shows it: right when each gradient is a new tensor (state shares memory with a
    gradient), or a known mistake that the parameters match (e.g. t advanced once per key)."""
    k, problem = found
    keys = ", ".join(f"{key} {list(value.shape)}" for key, value in case["params"].items())
    where = _("{calls} of step() on a model with keys {keys} ({dtype}, {device})").format(
        calls=_calls(len(case["gradients"])), keys=keys, dtype=case["dtype"], device=case["device"]
    )
    reference = expected(case, "the reference", lambda: reference_steps(rule, case))
    # From step 2 on, parameters off only when gradients are written in place: state that the write changed.
    if k > 1 and _sequence_problem(_run_steps(ctx, rule, case), reference, rule=rule, case=case) is None:
        return CheckFailure(
            _(
                "{title}, {where}, each gradient written into the same tensor as autograd does: {problem}. With a "
                "new gradient tensor every step the parameters are right, so {class_name} keeps state that shares "
                "memory with a gradient, and the next gradient written into it changes that state: start the state "
                "from a copy (or from 0) rather than from gradient_x itself"
            ).format(title=rule.title, where=where, problem=problem, class_name=rule.class_name),
            diagnosis="state_aliases_gradient",
        )
    return CheckFailure(
        _("{title}, {where}: {problem}. This test requires right values too (see the sequence test).").format(
            title=rule.title, where=where, problem=problem
        ),
        pending=lambda: _diagnose_sequence(ctx, rule, case, steps),
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
