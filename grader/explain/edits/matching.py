"""Matching: does a candidate's output agree with the student's answers under the grading rule (non-finite
entries at the same places, finite ones within the tolerance, a value with no finite entry never agrees)?
Trusted side.
"""

from __future__ import annotations

import numpy as np

from .evaluate import _as_array, _with_errstate

#: The grading tolerance of one per-key call on float32 inputs: 16u, u = 2⁻²⁴ (see grader.explain.diagnosis).
FLOAT32_RTOL = 16 * 2.0**-24


def _student_matrix(table, answers):
    """The answers as [n_out, N] float64, or None when any is missing or shaped unlike the calls."""
    n_out = table.reference.shape[0]
    rows = [[] for _ in range(n_out)]
    if len(answers) != len(table.layout.shapes):
        return None
    for answer, shape in zip(answers, table.layout.shapes):
        if not isinstance(answer, (tuple, list)) or len(answer) != n_out:
            return None
        for index, value in enumerate(answer):
            array = _as_array(value)
            if array is None:
                return None
            if array.shape != tuple(shape):
                if (index in table.int_outputs and array.size == 1) or isinstance(value, (int, float)):
                    # a step counter as a number or one-element tensor; or a plain Python number (a state
                    # returned before it ever became a tensor): the same value in every entry
                    array = np.full(shape, float(array.reshape(-1)[0]))
                else:
                    return None
            rows[index].append(array.reshape(-1))
    return np.stack([np.concatenate(row) for row in rows])


def _floors(table):
    """Per output and entry, the size of the output's input counterpart (x for x, G for G ...) in its call."""
    rule, layout = table.rule, table.layout
    counterparts = [rule.inputs[0], *rule.state]
    floors = np.zeros(table.reference.shape)
    for start, stop in layout.segments:
        for index, name in enumerate(counterparts[: floors.shape[0]]):
            values = np.broadcast_to(np.asarray(layout.env[name]), (floors.shape[-1],))[start:stop]
            finite = values[np.isfinite(values)]
            floors[index, start:stop] = np.abs(finite).max() if finite.size else 0.0
    return floors


@_with_errstate
def _agree(table, candidates, student, rtol, floors):
    """[C] bool: candidates that agree on every returned value. The first call alone is judged first (a
    necessary condition, cheap), the full rule then only on the few left."""
    candidates = np.asarray(candidates)
    start, stop = table.layout.segments[0]
    c, s = candidates[..., start:stop], student[None, :, start:stop]
    scale = np.maximum(
        np.where(np.isfinite(c), np.abs(c), 0.0).max(axis=-1, keepdims=True), floors[None, :, start : start + 1]
    )
    maybe = (~(np.abs(s - c) > rtol * (np.abs(c) + scale))).all(axis=(-1, -2))  # NaN differences pass here
    result = np.zeros(len(candidates), dtype=bool)
    rows = np.flatnonzero(maybe)
    if len(rows):
        result[rows] = _agree_slots(table, candidates[rows], student, rtol, floors).all(axis=1)
    return result


@_with_errstate
def _agree_slots(table, candidates, student, rtol, floors):
    """[C, n_out] bool: candidate c's returned value k agrees with the student's under the grading rule.

    Per call: non-finite entries must coincide (NaN with NaN, inf with the same inf); finite ones within
    rtol·(|c| + S), S the largest finite |c| of that value in that call, at least its input counterpart's
    size; whole-number values (t) exactly. A value with no finite entry in any call agrees with nothing.
    """
    candidates = np.asarray(candidates)
    result = np.ones(candidates.shape[:2], dtype=bool)
    any_finite = np.zeros(candidates.shape[:2], dtype=bool)
    for start, stop in table.layout.segments:
        c, s = candidates[..., start:stop], student[None, :, start:stop]
        finite_c, finite_s = np.isfinite(c), np.isfinite(s)
        both = finite_c & finite_s
        same_nonfinite = ((c == s) | (np.isnan(c) & np.isnan(s))) & ~finite_c & ~finite_s
        scale = np.maximum(
            np.where(finite_c, np.abs(c), 0.0).max(axis=-1, keepdims=True), floors[None, :, start : start + 1]
        )
        close = np.where(both, np.abs(s - c) <= rtol * (np.abs(c) + scale), same_nonfinite)
        for index in table.int_outputs:
            close[:, index] = both[:, index] & (c[:, index] == s[:, index])
        result &= close.all(axis=-1)
        any_finite |= both.any(axis=-1)
    return result & any_finite
