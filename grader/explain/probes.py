"""The probe set: fixed inputs that tell every two known mistakes apart, and the answers to them. Trusted side.

A rule's probes (chosen as grader.explain.diagnosis' docstring says) go to the submission as worker calls in
one round trip (`probe_calls`); `probe_fingerprint` is what a known mistake, or the correct rule, gives on them;
`student_fingerprint` reads the student's answers into the same form, and `fingerprint_distance` compares two.
"""

from __future__ import annotations

import functools
import math

import torch

from grader.i18n import _
from reference import rules
from reference.torch_check import ParameterSet, tolerance

from .distance import STEP_TOLERANCE_FACTOR, _as_float64, _finite_max_abs, _outputs_distance, _trajectory_distance
from .mistakes import Mistake, hyperparameters, optimizer_for, state_names

PROBE_LR = 0.05


PROBE_STEPS = 4


#: Away from 0, 0.5 and 1, and from the defaults a student might hard-code (0.9, 0.99, 0.999, 1e-7, 1e-8).
PROBE_HYPER = {
    "adagrad": {"epsilon": 1e-4},
    "rmsprop": {"beta": 0.8, "epsilon": 1e-4},
    "momentum": {"rho": 0.7},
    "nesterov": {"rho": 0.7},
    "adam": {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-4},
}


# Gradients of the probe chain, per step. Step 1 is all positive (with state 0, a mistake that averages
# g instead of g² would take the root of a negative number); later steps flip the sign only where the
# accumulated squares are large, so such a mistake stays finite and differs from |g|. Entries of size
# 1e-2 and 5e-3 make g² ~ epsilon = 1e-4 (epsilon inside, outside or dropped differ).
_PROBE_X = ((0.5, -1.2, 0.8), (-0.3, 1.0, 2.0))


_PROBE_GRADIENTS = (
    ((1.5, 0.3, 0.01), (0.02, 2.0, 0.005)),
    ((-0.4, 0.25, 0.012), (0.03, -0.6, 0.004)),
    ((0.9, -0.05, 0.008), (0.015, 1.1, 0.006)),
    ((-0.2, 0.35, 0.011), (0.025, -0.3, 0.005)),
)


_PROBE_B = ((1.1, -0.4, 0.05), (0.7, -2.0, 0.3))


_PROBE_B_GRADIENTS = (
    ((0.8, 0.02, 1.3), (0.4, 0.09, 0.007)),
    ((0.6, 0.03, -0.5), (-0.1, 0.05, 0.009)),
    ((-0.3, 0.01, 0.9), (0.3, 0.08, 0.006)),
    ((0.5, 0.02, -0.2), (0.2, 0.07, 0.008)),
)


_SCALAR = {"x": 0.7, "gradient_x": 4e-4, "G": 2e-7, "M": 0.01, "delta_x": -0.02, "t": 7}


def _tensor(values):
    return torch.tensor(values, dtype=torch.float32)


@functools.cache
def _probe_inputs(rule):
    """The probe set's inputs: (per-key argument lists, (params, gradients) of the step() sequence)."""
    hyper = PROBE_HYPER[rule]
    names = state_names(rule)
    chain = []
    x, state = _tensor(_PROBE_X), [1 if name == "t" else 0 for name in names]
    for gradient in _PROBE_GRADIENTS:
        arguments = [x, _tensor(gradient), *state]
        chain.append(arguments)
        x, *state = getattr(rules, rule)(*[_copy(value) for value in arguments], PROBE_LR, **hyper)
    scalar = [
        _tensor(_SCALAR["x"]),
        _tensor(_SCALAR["gradient_x"]),
        *[_SCALAR[name] if name == "t" else _tensor(_SCALAR[name]) for name in names],
    ]
    params = {"W": _tensor(_PROBE_X), "b": _tensor(_PROBE_B)}
    gradients = [{"W": _tensor(w), "b": _tensor(b)} for w, b in zip(_PROBE_GRADIENTS, _PROBE_B_GRADIENTS)]
    return tuple(chain) + (scalar,), (params, gradients)


def probe_calls(rule: str) -> list[tuple[str, dict]]:
    """The probe set of `rule` as worker calls [(op, arguments), ...], for `Sandbox.prepare`/`call_many`."""
    per_key, (params, gradients) = _probe_inputs(rule)
    class_name = optimizer_for(rule).__name__
    hyper = [PROBE_HYPER[rule][name] for name in hyperparameters(rule)]
    calls = [
        (
            "per_key",
            {
                "class_name": class_name,
                "method": rule,
                "hyper": hyper,
                "init_lr": PROBE_LR,
                "arguments": [_copy(value) for value in arguments],
                "device": "cpu",
            },
        )
        for arguments in per_key
    ]
    calls.append(
        (
            "run_steps",
            {
                "class_name": class_name,
                "hyper": hyper,
                "init_lr": PROBE_LR,
                "params": {key: value.clone() for key, value in params.items()},
                "gradients": [{key: value.clone() for key, value in step.items()} for step in gradients],
                "device": "cpu",
            },
        )
    )
    return calls


@functools.cache
def probe_fingerprint(rule: str, mistake: Mistake | None = None):
    """What `mistake` (None: the correct rule) gives on the probe set: per-key outputs, then the trajectory.

    A per-key output is None where the mistake raises; the trajectory is None where the simulation raises.
    """
    per_key, (params, gradients) = _probe_inputs(rule)
    hyper = PROBE_HYPER[rule]
    if mistake is not None and mistake.per_key:
        update = lambda *args: mistake.update(*args, init_lr=PROBE_LR, **hyper)  # noqa: E731
    else:  # a step() mistake keeps the correct per-key method
        update = lambda *args: getattr(rules, rule)(*args, PROBE_LR, **hyper)  # noqa: E731
    outputs = tuple(_call(update, arguments) for arguments in per_key)
    optimizer_class = optimizer_for(rule) if mistake is None else mistake.optimizer_class()
    try:
        trajectory = _simulate(optimizer_class, params, gradients, PROBE_LR, hyper)
    except Exception:  # noqa: BLE001 - a mistake's own failure: it cannot match
        trajectory = None
    return outputs, trajectory


def student_fingerprint(rule: str, answers: list):
    """The student's answers to `probe_calls(rule)` (decoded, as `Sandbox.call_many` gives them) in the
    form of `probe_fingerprint`, and for each probe the error it raised (or None)."""
    answers = list(answers)
    count = len(_probe_inputs(rule)[0])
    if len(answers) != count + 1:
        raise ValueError(f"{rule} has {count + 1} probes; got {len(answers)} answers")
    outputs, errors = [], []
    for answer in answers[:count]:
        value = answer.get("value") if isinstance(answer, dict) and answer.get("ok") else None
        result = value.get("result") if isinstance(value, dict) else None
        outputs.append(tuple(_plain(item) for item in result) if isinstance(result, tuple) else None)
        errors.append(None if value is not None else _error_text(answer))
    trajectory, steps = None, answers[count].get("value") if answers[count].get("ok") else None
    try:
        # steps is None where the call failed: iterating it raises TypeError, caught here with the rest
        trajectory = [{key: _plain(value) for key, value in step["params"].items()} for step in steps]  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        trajectory = None
    errors.append(None if steps is not None else _error_text(answers[count]))
    return (tuple(outputs), trajectory), tuple(errors)


def fingerprint_distance(rule: str, ours, theirs, *, exact: bool = False) -> float:
    """max over the probes of the disagreement in tolerance units; inf where either side has no answer.

    Stops once above 1 (no match) unless `exact`, which gives the true maximum (to measure separations).
    """
    per_key, _sequences = _probe_inputs(rule)
    tol = STEP_TOLERANCE_FACTOR * tolerance(1, torch.float32)
    worst = 0.0
    for arguments, mine, expected in zip(per_key, ours[0], theirs[0]):
        if mine is None or expected is None:
            return math.inf
        worst = max(worst, _outputs_distance(mine, expected, _scales(rule, arguments), tol, exact))
        if worst > 1 and not exact:
            return worst
    if ours[1] is None or theirs[1] is None:
        return math.inf
    return max(worst, _trajectory_distance(ours[1], theirs[1]))


def _scales(rule, arguments):
    """The size of each output's input counterpart (x for x, G for G ...): a floor for its scale."""
    return [
        _finite_max_abs(_as_float64(value)) if isinstance(value, torch.Tensor) else 0.0
        for value in [arguments[0], *arguments[2:]]
    ]


def _confirm(rule, candidates, run_probes):
    """(the candidates that match the student on every probe, the student's fingerprint and errors, problem).

    problem: why the probes could not be run (then nothing is confirmed), else None.
    """
    try:
        answers = run_probes(probe_calls(rule))
        fingerprint, errors = student_fingerprint(rule, answers)
    except Exception as error:  # noqa: BLE001 - the worker died or hung: no name rather than a guess
        return [], None, None, f"{type(error).__name__}: {error}"
    confirmed = [
        mistake
        for mistake in candidates
        if fingerprint_distance(rule, fingerprint, probe_fingerprint(rule, mistake)) <= 1
    ]
    return confirmed, fingerprint, errors, None


def _copy(value):
    return value.clone() if isinstance(value, torch.Tensor) else value


def _plain(value):
    """A received value as a tensor or number (a WireTensor's tensor); anything else stays as it is."""
    tensor = getattr(value, "tensor", None)
    return tensor if isinstance(tensor, torch.Tensor) else value


def _error_text(answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        # Translators: ends "your adam() ...": {kind} is a Python exception's name ("ValueError"), {message} its message.
        raised = _("raised {kind}: {message}")
        return raised.format(
            kind=str(error.get("kind", _("an error")))[:100], message=str(error.get("message", ""))[:300]
        )
    # Translators: ends "your adam() ..." or "step() ...".
    return _("gave no answer")


def _call(function, arguments):
    """function(*copies of arguments) as a tuple, or None if it raises (mistakes may mutate arguments)."""
    try:
        return tuple(function(*[_copy(value) for value in arguments]))
    except Exception:  # noqa: BLE001
        return None


def _simulate(optimizer_class, params, gradients, init_lr, hyper):
    model = ParameterSet(params)
    optimizer = optimizer_class(init_lr, model, **hyper)
    trajectory = []
    for step_gradients in gradients:
        model.grads = {key: value.clone() for key, value in step_gradients.items()}
        optimizer.step()
        trajectory.append({key: value.detach().clone() for key, value in model.params.items()})
    return trajectory
