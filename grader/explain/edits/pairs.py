"""Pairs of edits: extending the table's single edits by a second one, only where the student's answers allow
it, every pair in two statements evaluated for all first edits at once. Trusted side.
"""

from __future__ import annotations

import numpy as np

from .evaluate import _evaluate, _reducer, _run, _stack_outputs, _with_errstate
from .matching import _agree, _agree_slots
from .operators import Candidate, Edit, _all_edits


def _final_before(rule):
    """For each statement index i (and the return), the returned slots whose value is fixed before i."""
    defined_at = {ssa: k for k, (ssa, _, _) in enumerate(rule.statements)}
    result = []
    for index in range(len(rule.statements) + 1):
        slots = set()
        for slot, value in enumerate(rule.returns):
            if value[0] == "var" and defined_at.get(value[1], -1) < index:
                slots.add(slot)
        result.append(slots)
    return result


@_with_errstate
def _pairs(table, student, rtol, floors, agree):
    """Pairs of edits that reproduce `student`: [Candidate]. `agree[s, k]`: single s agrees on slot k."""
    rule, n = table.rule, len(table.rule.statements)
    reduce = _reducer(table.layout.segments)
    size = table.reference.shape[-1]
    final = _final_before(rule)
    ref_agree = _agree_slots(table, table.reference[None], student, rtol, floors)[0]
    live = [k for k in range(len(table.singles)) if not table.noop[k]]
    found = []
    # Two statements: for each second edit, every earlier first edit that leaves the returned values
    # fixed before the second statement as the student has them, evaluated at once.
    stacks = {}

    def pair(both):
        first, candidate = both
        return Candidate(
            first.edits + candidate.edits, first.override + candidate.override, candidate.returns or first.returns
        )

    pending = _Pending(
        lambda block: _agree(table, block, student, rtol, floors),
        lambda labels: found.extend(pair(both) for both in labels),
    )
    for second in live:
        candidate, index = table.singles[second]
        fixed = set(final[index])
        if candidate.returns:
            fixed = {slot for slot in fixed if candidate.returns[slot] == rule.returns[slot]}
        if index not in stacks:
            earlier = [k for k in live if table.singles[k][1] < index]
            stacks[index] = (
                np.array(earlier, dtype=int),
                {
                    name: _stack([_value(table.states[k], table.before[index], name) for k in earlier], size)
                    for name in table.before[index]
                }
                if earlier
                else {},
            )
        earlier, stacked = stacks[index]
        if not len(earlier):
            continue
        mask = agree[earlier][:, sorted(fixed)].all(axis=1)
        if not mask.any():
            continue
        firsts = earlier[mask]
        env = {
            name: (value[mask] if isinstance(value, np.ndarray) and value.ndim == 2 else value)
            for name, value in stacked.items()
        }
        _, values = _run(rule, env, index, dict(candidate.override), reduce, candidate.returns)
        out = _stack_outputs(values, size)
        pending.add(
            np.broadcast_to(out, (len(firsts), *out.shape[-2:])), [(table.singles[k][0], candidate) for k in firsts]
        )
    pending.flush()
    # One statement: every edit of an edited statement, where the values fixed before it are right; the
    # statement's values for all of them at once go through the rest of the rule together.
    same = _Pending(lambda block: _agree(table, block, student, rtol, floors), found.extend)
    seen_by = {}  # per statement: the edited expressions already judged
    memos = {}  # per statement: the values of subexpressions shared by its edits (same environment)
    for k in live:
        candidate, index = table.singles[k]
        if index == n or not all(ref_agree[slot] for slot in final[index]):
            continue
        target = ("var", rule.statements[index][0])
        if any(value == target and ref_agree[slot] for slot, value in enumerate(rule.returns)):
            continue  # the student returns this statement's value as the rule has it
        expr = dict(candidate.override)[index]
        scope, show = rule.scope(index), rule.display(index)
        batch, values = [], []
        env, memo = table.before[index], memos.setdefault(index, {})
        seen = seen_by.setdefault(index, set())
        for kind, old, new_part, new in _all_edits(expr, scope, rule.hyper, show):
            if new != rule.statements[index][2] and new not in seen:  # two disjoint edits come in either order
                seen.add(new)
                batch.append(Candidate(candidate.edits + (Edit(kind, index, old, new_part),), ((index, new),)))
                values.append(_evaluate(new, env, reduce, memo))
        if not batch:
            continue
        stacked = dict(env)
        stacked[rule.statements[index][0]] = _stack(values, size)
        _, outputs = _run(rule, stacked, index + 1, {}, reduce)
        out = _stack_outputs(outputs, size)
        same.add(np.broadcast_to(out, (len(batch), *out.shape[-2:])), batch)
    same.flush()
    # Two edits of the return.
    returns = [k for k in live if table.singles[k][1] == n]
    two = _Pending(lambda block: _agree(table, block, student, rtol, floors), found.extend)
    for i, a in enumerate(returns):
        for b in returns[i + 1 :]:
            first, second = table.singles[a][0], table.singles[b][0]
            merged = _merge_returns(rule, first.returns, second.returns)
            if merged is None:
                continue
            out = _stack_outputs(_run(rule, table.before[n], n, {}, reduce, merged)[1], size)
            two.add(out[None], [Candidate(first.edits + second.edits, (), merged)])
    two.flush()
    return found


class _Pending:
    """Blocks of candidate outputs judged together once there are enough of them (fewer numpy calls)."""

    def __init__(self, judge, accept, rows=20000):
        self.judge, self.accept, self.rows = judge, accept, rows
        self.blocks, self.labels, self.count = [], [], 0

    def add(self, block, labels):
        self.blocks.append(block)
        self.labels += list(labels)
        self.count += len(block)
        if self.count >= self.rows:
            self.flush()

    def flush(self):
        if self.blocks:
            ok = self.judge(np.concatenate(self.blocks))
            self.accept([self.labels[i] for i in np.flatnonzero(ok)])
        self.blocks, self.labels, self.count = [], [], 0


def _merge_returns(rule, a, b):
    """Both return edits at once, or None where they edit the same returned value."""
    merged = []
    for original, x, y in zip(rule.returns, a, b):
        if x != original and y != original:
            return None
        merged.append(x if x != original else y)
    return tuple(merged)


def _value(env_after, before, name):
    """A first edit's value of `name` before the second statement (`name` is defined before it)."""
    return env_after.get(name, before.get(name))


def _stack(values, size):
    if (
        all(not isinstance(value, np.ndarray) or value.ndim == 0 for value in values)
        and len({float(value) for value in values}) == 1
    ):
        return values[0]
    out = np.empty((len(values), size))
    for row, value in zip(out, values):
        row[...] = value
    return out
