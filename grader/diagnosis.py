"""Which known mistake does a wrong output match? Runs on the trusted side, on plain tensors only.

`diagnose_step` compares one call of a per-key method with every per-key mistake of the bank;
`diagnose_sequence` compares the parameters after each of k `step()` calls with every mistake simulated
through the same gradients (per-key mistakes inside the reference `step`, and the `step` mistakes).
Both return None when the output matches the correct rule, or matches no known mistake.

Tolerances (u is the unit roundoff of the inputs' dtype, 2⁻²⁴ for float32):
- one step: |got - mistake| <= 16u · (|mistake| + S) elementwise, S the largest |value| of that output
  and of the matching input (x for x, G for G ...). One step has no history to amplify rounding; two
  correct implementations with different operation orders differ by a few u (at most 4.5u per step
  measured, see `reference.torch_check.tolerance`), so 16u = twice that sequence bound at k = 1 leaves
  room for any order of operations (sqrt(G)/sqrt(1 - b2^t), g**2 for g*g, ...), while every mistake in
  the bank changes some output by far more (relative 1e-3 or more) in the regime where it shows.
- k steps: `reference.torch_check.worst_disagreement` <= 1, i.e. 8·k·u, the bound that holds for two
  correct implementations over k open-loop steps.
Non-finite values must coincide exactly (NaN with NaN, inf with the same inf); they are then ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reference import rules
from reference.torch_check import ParameterSet, tolerance, worst_disagreement

from .mistakes import Mistake, hyperparameters, mistakes_for, optimizer_for, state_names

__all__ = ["Diagnosis", "diagnose_step", "diagnose_sequence", "STEP_TOLERANCE_FACTOR"]

#: One-step tolerance in units of `tolerance(1, dtype)` (= 8u): 16u in all; see the module docstring.
STEP_TOLERANCE_FACTOR = 2


@dataclass(frozen=True)
class Diagnosis:
    """The known mistake that a wrong output matches, and what to tell the student."""

    mistake: Mistake
    """The best match: the smallest disagreement, the bank's order between equals."""
    message: str
    """Student-facing: the optimizer, what the output matches, and how to fix it."""
    distance: float
    """The disagreement with the mistake's output in units of the tolerance (<= 1: within it)."""
    also: tuple[Mistake, ...] = ()
    """Other mistakes whose output is the same as the best match's on this input (indistinguishable here)."""
    first_wrong_step: int | None = None
    """Sequences only: the first step (1-based) after which the parameters leave the correct trajectory."""

    def to_dict(self) -> dict:
        """Plain JSON-ready data, e.g. for a score report's `extra_data`."""
        return {
            "rule": self.mistake.rule,
            "slug": self.mistake.slug,
            "title": self.mistake.title,
            "hint": self.mistake.hint,
            "message": self.message,
            "distance": self.distance,
            "also": [mistake.slug for mistake in self.also],
            "first_wrong_step": self.first_wrong_step,
        }


def diagnose_step(rule: str, inputs: dict, hyper: dict, got) -> Diagnosis | None:
    """The per-key mistake whose output matches `got`, or None.

    inputs: dict(x=..., gradient_x=..., <state by name, e.g. G, M, t>, init_lr=...), the arguments the
    student's per-key method was called with (state may be the int 0, as on the first step).
    hyper: the rule's hyperparameters by name (e.g. beta1, beta2, epsilon for "adam").
    got: the tuple the student's method returned, e.g. (x, G, M, t) for "adam"; every element is compared.
    None when `got` matches the correct rule (`reference.rules`), when it matches no mistake, or when
    only mistakes that coincide with the correct rule on these inputs match it.
    """
    hyper = _checked_hyper(rule, hyper)
    names = ("x", "gradient_x", *state_names(rule), "init_lr")
    if set(inputs) != set(names):
        raise ValueError(f"{rule} inputs must be {', '.join(names)}; got {', '.join(map(str, inputs))}")
    arguments = [inputs[name] for name in names]
    got = tuple(got)
    # The scale of each output is that of its input counterpart too: x_new = x - step can cancel.
    scales = [_finite_max_abs(_as_float64(inputs[name])) for name in ("x", *state_names(rule))]
    tol = STEP_TOLERANCE_FACTOR * tolerance(1, _dtype_of(inputs["x"]))

    def distance(ours, theirs):
        return _outputs_distance(ours, theirs, scales, tol)

    correct = _call(lambda *args: getattr(rules, rule)(*args, **hyper), arguments)
    if correct is None:
        raise ValueError(f"the reference {rule} rule fails on these inputs; check their shapes and types")
    if distance(got, correct) <= 1:
        return None
    matches = []
    for mistake in mistakes_for(rule):
        if not mistake.per_key:
            continue
        output = _call(lambda *args: mistake.update(*args[:-1], init_lr=args[-1], **hyper), arguments)
        if output is None:
            continue
        score = distance(got, output)
        # A mistake that gives the correct output here says nothing about this input.
        if score <= 1 and distance(output, correct) > 1:
            matches.append((score, mistake, output))
    if not matches:
        return None
    matches.sort(key=lambda match: match[0])  # stable: the bank's order between equals
    best_score, best, best_output = matches[0]
    also = tuple(mistake for _, mistake, output in matches[1:] if distance(output, best_output) <= 1)
    return Diagnosis(best, _message(best, "update", None, also), best_score, also)


def diagnose_sequence(
    rule: str, params: dict, gradients: list, hyper: dict, got: list, *, init_lr: float | None = None
) -> Diagnosis | None:
    """The mistake (per-key or in `step`) whose parameter trajectory matches `got`, or None.

    params: key -> start tensor; gradients: one dict key -> tensor per step, fed open loop;
    hyper: the rule's hyperparameters by name, with init_lr either in it or given by keyword;
    got: one dict key -> tensor per step, the student's `model.params` after each `step()` (it may be
    shorter than `gradients`, e.g. when the student's code failed part way: the steps it has are used).
    Every mistake is simulated with `reference.torch_check.ParameterSet`; None when `got` stays on the
    correct trajectory or matches no mistake that leaves it.
    """
    hyper = dict(hyper)
    if "init_lr" in hyper:
        if init_lr is not None and init_lr != hyper["init_lr"]:
            raise ValueError(f"init_lr given twice: {init_lr!r} and hyper['init_lr'] = {hyper['init_lr']!r}")
        init_lr = hyper.pop("init_lr")
    if init_lr is None:
        raise TypeError("diagnose_sequence needs init_lr: pass it by keyword or in hyper")
    hyper = _checked_hyper(rule, hyper)
    got = list(got)
    if len(got) > len(gradients):
        raise ValueError(f"got has {len(got)} steps but there are gradients for {len(gradients)} only")
    gradients = list(gradients)[: len(got)]
    if not got:
        return None

    def simulate(optimizer_class):
        model = ParameterSet(params)
        optimizer = optimizer_class(init_lr, model, **hyper)
        trajectory = []
        for step_gradients in gradients:
            model.grads = {key: value.clone() for key, value in step_gradients.items()}
            optimizer.step()
            trajectory.append({key: value.detach().clone() for key, value in model.params.items()})
        return trajectory

    correct = simulate(optimizer_for(rule))
    if _trajectory_distance(got, correct) <= 1:
        return None
    matches = []
    for mistake in mistakes_for(rule):
        try:
            trajectory = simulate(mistake.optimizer_class())
        except Exception:  # e.g. a shared state across keys whose shapes do not broadcast
            continue
        score = _trajectory_distance(got, trajectory)
        # A mistake that stays on the correct trajectory here says nothing about these gradients.
        if score <= 1 and _trajectory_distance(trajectory, correct) > 1:
            matches.append((score, mistake, trajectory))
    if not matches:
        return None
    matches.sort(key=lambda match: match[0])
    best_score, best, best_trajectory = matches[0]
    also = tuple(
        mistake for _, mistake, trajectory in matches[1:] if _trajectory_distance(trajectory, best_trajectory) <= 1
    )
    first = _first_wrong_step(got, correct)
    return Diagnosis(best, _message(best, "parameters", first, also), best_score, also, first)


def _message(mistake, what, first_wrong_step, also):
    name = optimizer_for(mistake.rule).__name__
    where = f", from step {first_wrong_step}" if first_wrong_step else ""
    verb = "matches" if what == "update" else "match"
    text = f"{name}{where}: your {what} {verb} {name} {mistake.title}. Fix: {mistake.hint}"
    if also:
        text += " (On this input it is the same as " + "; ".join(f"{name} {other.title}" for other in also) + ".)"
    return text


def _checked_hyper(rule, hyper):
    expected = hyperparameters(rule)
    if set(hyper) != set(expected):
        raise ValueError(f"{rule} hyperparameters are {', '.join(expected)}; got {', '.join(map(str, hyper))}")
    return dict(hyper)


def _dtype_of(value):
    return value.dtype if isinstance(value, torch.Tensor) and value.is_floating_point() else torch.float64


def _call(function, arguments):
    """function(*copies of arguments) as a tuple, or None if it raises (mistakes may mutate arguments)."""
    copies = [value.clone() if isinstance(value, torch.Tensor) else value for value in arguments]
    try:
        return tuple(function(*copies))
    except Exception:
        return None


def _outputs_distance(got, expected, scales, tol):
    """max over the returned elements of their disagreement in tolerance units (inf: cannot match).

    scales[i] is a floor for output i's scale (its input counterpart's size). Stops early once above 1:
    callers only need the value when it is at most 1.
    """
    if len(got) != len(expected):
        return math.inf
    worst = 0.0
    for index, (mine, theirs) in enumerate(zip(got, expected)):
        scale = scales[index] if index < len(scales) else 0.0
        worst = max(worst, _elementwise_distance(mine, theirs, scale, tol))
        if worst > 1:
            break
    return worst


def _elementwise_distance(mine, theirs, scale, tol):
    """max |mine - theirs| / (tol · (|theirs| + S)); S the largest finite |value| of theirs, at least `scale`."""
    try:
        mine, theirs = _as_float64(mine), _as_float64(theirs)
    except (TypeError, ValueError, RuntimeError):
        return math.inf
    if mine.shape != theirs.shape:
        return math.inf
    same = (mine == theirs) | (mine.isnan() & theirs.isnan())
    if bool(same.all()):  # includes empty tensors and equal step counters
        return 0.0
    if not bool((same | (mine.isfinite() & theirs.isfinite())).all()):
        return math.inf
    scale = max(scale, _finite_max_abs(theirs))
    difference = torch.where(same, 0.0, (mine - theirs).abs())
    bound = tol * (theirs.abs() + scale)
    ratio = torch.where(difference == 0, 0.0, difference / bound)
    return ratio.max().item()


def _as_float64(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to(device="cpu", dtype=torch.float64)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number or tensor: {type(value).__name__}")
    return torch.tensor(float(value), dtype=torch.float64)


def _finite_max_abs(tensor):
    finite = tensor[tensor.isfinite()]
    return finite.abs().max().item() if finite.numel() else 0.0


def _trajectory_distance(ours, theirs):
    """`worst_disagreement(ours, theirs)` after checking structure and non-finite values (inf: no match)."""
    if len(ours) != len(theirs):
        return math.inf
    clean_ours, clean_theirs = [], []
    for mine, reference in zip(ours, theirs):
        if not isinstance(mine, dict) or set(mine) != set(reference):
            return math.inf
        step_ours, step_theirs = {}, {}
        for key, value in reference.items():
            other = mine[key]
            if not isinstance(other, torch.Tensor) or other.shape != value.shape or not other.is_floating_point():
                return math.inf
            other = other.detach().to(value.device)
            if bool(other.isfinite().all()) and bool(value.isfinite().all()):  # the usual case, fast
                step_ours[key], step_theirs[key] = other, value
                continue
            same = (other == value) | (other.isnan() & value.isnan())
            if not bool((same | (other.isfinite() & value.isfinite())).all()):
                return math.inf
            # Agreeing non-finite entries would poison worst_disagreement (NaN compares as agreement there).
            step_ours[key] = torch.where(same, 0.0, other).to(other.dtype)
            step_theirs[key] = torch.where(same, 0.0, value).to(value.dtype)
        clean_ours.append(step_ours)
        clean_theirs.append(step_theirs)
    worst = worst_disagreement(clean_ours, clean_theirs)
    return worst if not math.isnan(worst) else math.inf


def _first_wrong_step(got, correct):
    """The smallest k with got[:k] off the correct trajectory (the disagreement is a running max)."""
    low, high = 1, len(got)  # got[:high] is known to disagree
    while low < high:
        middle = (low + high) // 2
        if _trajectory_distance(got[:middle], correct[:middle]) > 1:
            high = middle
        else:
            low = middle + 1
    return low
