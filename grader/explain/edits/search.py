"""The search: `explain` finds the simplest edits of the rule (one, else two) that reproduce every answer,
confirms them on step() sequences and more calls, and picks the readings to show. Trusted side.
"""

from __future__ import annotations

import numpy as np

from .evaluate import _layout, _reducer, _run, _stack_outputs, _with_errstate
from .explanation import Explanation
from .matching import FLOAT32_RTOL, _agree, _agree_slots, _floors, _student_matrix
from .pairs import _pairs
from .rule import Rule
from .steps import _trajectory_agrees, simulate_steps
from .table import Table, _hyper_env, _is_counter, candidate_table

MAX_SHOWN = 3


def explain(
    rule: Rule,
    calls,
    answers,
    *,
    hyper: dict,
    init_lr: float,
    sequences=(),
    checks=(),
    table: Table | None = None,
    rtol: float = FLOAT32_RTOL,
    max_edits: int = 2,
) -> Explanation | None:
    """The simplest edits of `rule` (one, else two) that reproduce every answer, or None.

    answers[i]: what the student's method returned for calls[i] (a tuple; None where it raised: then
    nothing is explained). sequences: step() runs to confirm on, each (params, gradients, trajectory,
    hyper, init_lr, unit), unit the dtype's unit roundoff (2⁻²⁴ for float32). checks: more single calls
    to confirm on, each (arguments, answer, hyper, init_lr, rtol), e.g. the failing case. table: a kept
    `candidate_table(rule, calls, hyper, init_lr)`. Edits that reproduce the rule itself never explain.
    """
    table = table or candidate_table(rule, calls, hyper, init_lr)
    student = _student_matrix(table, list(answers))
    if student is None:
        return None
    floors = _floors(table)
    if _agree_slots(table, table.reference[None], student, rtol, floors).all():
        return None  # the student computes the rule itself
    singles, pairs = _probe_matches(table, student, rtol, floors, max_edits)

    def confirmed(candidates):
        return [
            candidate
            for candidate in candidates
            if all(_confirm_sequence(rule, candidate, *sequence) for sequence in sequences)
            and all(_confirm_call(rule, candidate, *check) for check in checks)
        ]

    found = confirmed(singles) or confirmed(pairs())
    if not found:
        return None
    # The fewest edits; among them the ones that reproduce the answers most closely (an edit that only
    # happens to stay within the tolerance, such as a hyperparameter replaced by a tiny epsilon, is not
    # shown beside an exact one); then the cheapest kinds of edit.
    fewest = [candidate for candidate in found if len(candidate.edits) == min(len(c.edits) for c in found)]
    distance = {id(candidate): _distance(table, candidate, student, rtol, floors) for candidate in fewest}
    best = min(distance.values())
    close = [c for c in fewest if distance[id(c)] <= max(2 * best, best + 0.05)]
    cheapest = min(candidate.cost for candidate in close)
    explanation = Explanation(rule, [], len(found))
    simplest = sorted(
        (c for c in close if c.cost == cheapest),
        key=lambda c: (round(distance[id(c)], 1), _changed_size(explanation, c)),
    )
    readings, texts = [], set()
    for candidate in simplest:
        # Readings that touch the same statements with the same kinds of edit say the same thing.
        meaning = tuple(sorted((edit.statement, edit.kind) for edit in candidate.edits))
        if meaning in texts:
            continue
        texts.add(meaning)
        readings.append(candidate)
        if len(readings) == MAX_SHOWN:
            break
    explanation.readings = readings
    return explanation


@_with_errstate
def _distance(table, candidate, student, rtol, floors):
    """max over the finite entries of |student - candidate| / (rtol·(|c| + S)): 0 is exact, 1 the tolerance."""
    layout, rule = table.layout, table.rule
    reduce = _reducer(layout.segments)
    _, outputs = _run(
        rule, _hyper_env(layout, table.hyper, candidate.swap), 0, dict(candidate.override), reduce, candidate.returns
    )
    c = _stack_outputs(outputs, student.shape[-1])
    worst = 0.0
    for start, stop in layout.segments:
        part, mine = c[:, start:stop], student[:, start:stop]
        finite = np.isfinite(part) & np.isfinite(mine)
        scale = np.maximum(
            np.where(np.isfinite(part), np.abs(part), 0.0).max(axis=-1, keepdims=True), floors[:, start : start + 1]
        )
        ratio = np.where(finite, np.abs(mine - part) / (rtol * (np.abs(part) + scale) + 1e-300), 0.0)
        worst = max(worst, float(ratio.max()) if ratio.size else 0.0)
    return worst


def _probe_matches(table, student, rtol, floors, max_edits):
    """(single edits, a function giving the pairs) that reproduce the student on the calls, remembered per
    student answers: the failing tests of one part share the probes, so the search runs once per part."""
    key = (student.tobytes(), student.shape, rtol, max_edits)
    memo = table.__dict__.setdefault("_memo", {})
    if key not in memo:
        agree = _agree_slots(table, table.outputs, student, rtol, floors)
        singles = [table.singles[k][0] for k in np.flatnonzero(agree.all(axis=1) & ~table.noop)]
        memo[key] = [singles, None, agree]
        while len(memo) > 64:
            memo.pop(next(iter(memo)))
    entry = memo[key]

    def pairs():
        if max_edits < 2:
            return []
        if entry[1] is None:
            found = _pairs(table, student, rtol, floors, entry[2])
            if table.extra:
                ok = _agree(table, table.extra_outputs, student, rtol, floors)
                found += [table.extra[k] for k in np.flatnonzero(ok)]
            entry[1] = found
        return entry[1]

    return entry[0], pairs


def _changed_size(explanation, candidate):
    """How long the student's changed lines are: of two readings, the shorter line is the plainer one."""
    return sum(len(student) for _, student in explanation.statements(candidate))


def _confirm_sequence(rule, candidate, params, gradients, trajectory, hyper, init_lr, unit=2.0**-24):
    if trajectory is None:
        return False
    try:
        ours = simulate_steps(rule, candidate, params, gradients[: len(trajectory)], hyper, init_lr)
    except (ValueError, TypeError, IndexError, KeyError):
        return False
    return _trajectory_agrees(ours, trajectory, unit)


@_with_errstate
def _confirm_call(rule, candidate, arguments, answer, hyper, init_lr, rtol):
    """Does the candidate reproduce `answer` on one more call (its own hyperparameters and init_lr)?"""
    try:
        layout = _layout(rule, [arguments], hyper, init_lr)
    except ValueError:
        return False
    reduce = _reducer(layout.segments)
    size = layout.segments[-1][1]
    _, outputs = _run(
        rule, _hyper_env(layout, hyper, candidate.swap), 0, dict(candidate.override), reduce, candidate.returns
    )
    _, reference = _run(rule, layout.env, 0, {}, reduce)
    table = Table(
        rule,
        layout,
        dict(hyper),
        float(init_lr),
        _stack_outputs(reference, size),
        tuple(i for i, value in enumerate(rule.returns) if _is_counter(rule, value)),
        [],
        None,
        None,
        [],
        [],
    )
    student = _student_matrix(table, [answer])
    if student is None:
        return False
    return bool(_agree_slots(table, _stack_outputs(outputs, size)[None], student, rtol, _floors(table)).all())
