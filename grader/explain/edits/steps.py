"""Step sequences: the course's step() loop run with a candidate rule, and the k-step grading rule that
confirms a candidate on the student's trajectory. Trusted side.
"""

from __future__ import annotations

import numpy as np

from .evaluate import _as_array, _reducer, _run, _with_errstate
from .rule import Rule


@_with_errstate
def simulate_steps(rule: Rule, candidate, params: dict, gradients: list, hyper: dict, init_lr: float):
    """The parameters after each step() of the course's loop with the candidate rule (None: the rule).

    Every state argument but `t` is kept per key and starts at 0; `t` is one counter for all keys that
    starts at 1 and takes the value returned for the last key (the reference `step()`).
    """
    override = dict(candidate.override) if candidate else {}
    returns = candidate.returns if candidate else None
    keys = list(params)
    x = {key: _as_array(value) for key, value in params.items()}
    state = {key: {name: 0.0 for name in rule.state if name != "t"} for key in keys}
    t = 1.0
    trajectory = []
    for step in gradients:
        next_t = t
        for key in keys:
            env = {rule.inputs[0]: x[key], rule.inputs[1]: _as_array(step[key]), rule.inputs[-1]: float(init_lr)}
            for name in rule.state:
                env[name] = t if name == "t" else state[key][name]
            for name, value in hyper.items():
                if candidate is not None and candidate.swap and name in candidate.swap:
                    other = candidate.swap[1] if name == candidate.swap[0] else candidate.swap[0]
                    value = hyper[other]
                env["self." + name] = float(value)
            reduce = _reducer([(0, x[key].size)])
            flat = {
                name: (np.asarray(value).reshape(-1) if isinstance(value, np.ndarray) and value.ndim else value)
                for name, value in env.items()
            }
            _, outputs = _run(rule, flat, 0, override, reduce, returns)
            shape = x[key].shape
            outputs = [
                np.broadcast_to(np.asarray(value, dtype=np.float64), (x[key].size,)).reshape(shape) for value in outputs
            ]
            x[key] = outputs[0]
            for name, value in zip(rule.state, outputs[1:]):
                if name == "t":
                    next_t = float(value.reshape(-1)[0]) if value.size else t
                else:
                    state[key][name] = value
        t = next_t
        trajectory.append({key: x[key].copy() for key in keys})
    return trajectory


@_with_errstate
def _trajectory_agrees(ours, theirs, unit):
    """The grading rule for k steps: |got - c| <= 8·k·u (|c| + S_k), S_k the largest |c| so far; non-finite
    entries must coincide."""
    if theirs is None or len(theirs) != len(ours):
        return False
    scale = 0.0
    for k, (mine, step) in enumerate(zip(ours, theirs), start=1):
        if not isinstance(step, dict) or set(step) != set(mine):
            return False
        finite = [np.abs(value[np.isfinite(value)]).max() for value in mine.values() if np.isfinite(value).any()]
        scale = max([scale, *finite])
        for key, value in mine.items():
            got = _as_array(step[key])
            if got is None or got.shape != value.shape:
                return False
            both = np.isfinite(got) & np.isfinite(value)
            same = (got == value) | (np.isnan(got) & np.isnan(value))
            if not np.all(both | same):
                return False
            bound = 8 * k * unit * (np.abs(value) + scale)
            if not np.all(np.where(both, np.abs(got - value) <= bound, True)):
                return False
    return True
