"""How far a student's output is from a candidate's, in tolerance units: at most 1 agrees. Trusted side.

One per-key call within STEP_TOLERANCE_FACTOR · 8u, k steps within 8·k·u (`reference.torch_check`), non-finite
entries only where the other has the same; the reasons are in grader.explain.diagnosis' docstring.
"""

from __future__ import annotations

import math

import torch

from reference.torch_check import worst_disagreement

#: One-step tolerance in units of `tolerance(1, dtype)` (= 8u): 16u in all; see grader.explain.diagnosis' docstring.
STEP_TOLERANCE_FACTOR = 2


def _dtype_of(value):
    return value.dtype if isinstance(value, torch.Tensor) and value.is_floating_point() else torch.float64


def _outputs_distance(got, expected, scales, tol, exact=False):
    """max over the returned elements of their disagreement in tolerance units (inf: cannot match).

    scales[i] is a floor for output i's scale (its input counterpart's size). Stops early once above 1:
    callers only need the value when it is at most 1 (unless `exact`).
    """
    if len(got) != len(expected):
        return math.inf
    worst = 0.0
    for index, (mine, theirs) in enumerate(zip(got, expected)):
        scale = scales[index] if index < len(scales) else 0.0
        worst = max(worst, _elementwise_distance(mine, theirs, scale, tol))
        if worst > 1 and not exact:
            break
    return worst


def _elementwise_distance(mine, theirs, scale, tol):
    """max |mine - theirs| / (tol · (|theirs| + S)); S the largest finite |value| of theirs, at least `scale`.

    Non-finite entries must coincide (NaN with NaN, inf with the same inf); they are then left out.
    """
    if isinstance(theirs, bool) or isinstance(mine, bool):
        return math.inf
    if isinstance(theirs, int) or isinstance(mine, int):  # a step counter: equal or not
        # As the check accepts it (closeness.int_problem): an int, a float, or a one-element tensor.
        if isinstance(mine, torch.Tensor) and mine.numel() == 1:
            mine = mine.item()
        numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (mine, theirs))
        return 0.0 if numbers and mine == theirs else math.inf
    try:
        mine, theirs = _as_float64(mine), _as_float64(theirs)
    except (TypeError, ValueError, RuntimeError):
        return math.inf
    if mine.shape != theirs.shape:
        return math.inf
    same = (mine == theirs) | (mine.isnan() & theirs.isnan())
    if bool(same.all()):  # includes empty tensors
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
