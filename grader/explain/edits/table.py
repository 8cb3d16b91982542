"""The candidate table: every single edit's outputs on the probe calls, computed once per rule and set of calls
(the candidates do not depend on the student), and kept: matching a student is then a lookup. Trusted side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .evaluate import _evaluate, _Layout, _layout, _reducer, _run, _stack_outputs, _with_errstate
from .matching import FLOAT32_RTOL, _agree_slots, _floors
from .operators import Candidate, Edit, _all_edits, _swaps
from .rule import Rule, _text, _uses


@dataclass
class Table:
    """What the search needs that does not depend on the student, for one rule and one set of calls:
    every single edit's outputs (outputs[c] is [n_out, entries], float64), which of them reproduce the
    rule itself, the environment of each single before every later statement (to extend it by a second
    edit), and the two-hyperparameter swaps with and without a further edit."""

    rule: Rule
    layout: _Layout
    hyper: dict
    init_lr: float | list  # or one per call
    reference: np.ndarray
    int_outputs: tuple
    singles: list  # [(Candidate, statement index)]
    outputs: np.ndarray  # [len(singles), n_out, N]
    noop: np.ndarray  # [len(singles)] bool: reproduces the rule itself
    states: list  # per single: its environment after its run
    before: list  # the rule's environment before each statement (and before the return)
    extra: list = field(default_factory=list)  # [Candidate] two-edit candidates precomputed (swaps)
    extra_outputs: np.ndarray | None = None

    @property
    def candidates(self):
        return [candidate for candidate, _ in self.singles]


def _hyper_env(layout, hyper, swap):
    env = dict(layout.env)
    if swap:
        a, b = swap
        env["self." + a], env["self." + b] = env["self." + b], env["self." + a]
    return env


def _singles(rule, env, reduce, swap=None):
    """Every single-statement edit: ([(candidate, statement index)], the environment before each statement)."""
    n = len(rule.statements)
    before = [None] * (n + 1)
    current = dict(env)
    for index, (ssa, _, expr) in enumerate(rule.statements):
        before[index] = current
        current = dict(current)
        current[ssa] = _evaluate(expr, current, reduce)
    before[n] = current
    base = (Edit("hyperparameters swapped", -1, f"self.{swap[0]}", f"self.{swap[1]}"),) if swap else ()
    results = []
    for index in range(n + 1):
        scope, show = rule.scope(index), rule.display(index)
        targets = [rule.statements[index][2]] if index < n else list(rule.returns)
        seen = set()
        for position, expr in enumerate(targets):
            variants = list(_all_edits(expr, scope, rule.hyper, show))
            variants += [("operands swapped", old, new_part, new) for old, new_part, new in _swaps(expr)]
            for kind, old, new_part, new in variants:
                if new == expr or (position, new) in seen:
                    continue
                seen.add((position, new))
                edit = Edit(kind, index, old, new_part)
                if index < n:
                    results.append((Candidate(base + (edit,), ((index, new),), None, swap), index))
                else:
                    returns = tuple(targets[:position] + [new] + targets[position + 1 :])
                    results.append((Candidate(base + (edit,), (), returns, swap), index))
        if index == n:
            for i in range(len(targets)):
                for j in range(i + 1, len(targets)):
                    returns = list(targets)
                    returns[i], returns[j] = returns[j], returns[i]
                    edit = Edit(
                        "return order",
                        n,
                        f"{_text(targets[i], show)}, {_text(targets[j], show)}",
                        f"{_text(targets[j], show)}, {_text(targets[i], show)}",
                    )
                    results.append((Candidate(base + (edit,), (), tuple(returns), swap), n))
    return results, before


def _run_singles(rule, singles, before, reduce, size):
    n = len(rule.statements)
    states, outputs = [], []
    for candidate, index in singles:
        env_after, values = _run(
            rule, before[min(index, n)], index, dict(candidate.override), reduce, candidate.returns
        )
        states.append(env_after)
        outputs.append(_stack_outputs(values, size))
    return states, (np.stack(outputs) if outputs else None)


@_with_errstate
def candidate_table(rule: Rule, calls, hyper: dict, init_lr) -> Table:
    """Every single edit's outputs on `calls` (and every swap of two hyperparameters, alone and with one
    more edit). Independent of any student: compute it once per rule and set of calls, and keep it;
    `explain` extends it to pairs of edits where the student's answers allow them. A hyperparameter (or
    init_lr) is one number, or a list of one number per call (calls with settings of their own)."""
    layout = _layout(rule, calls, hyper, init_lr)
    reduce = _reducer(layout.segments)
    size = layout.segments[-1][1] if layout.segments else 0
    _, ref_outputs = _run(rule, layout.env, 0, {}, reduce)
    reference = _stack_outputs(ref_outputs, size)
    int_outputs = tuple(i for i, value in enumerate(rule.returns) if _is_counter(rule, value))
    singles, before = _singles(rule, layout.env, reduce)
    states, outputs = _run_singles(rule, singles, before, reduce, size)
    no_noop = np.zeros(len(singles), dtype=bool)  # replaced below, once the table's floors are known
    table = Table(
        rule,
        layout,
        dict(hyper),
        _number_or_list(init_lr),
        reference,
        int_outputs,
        singles,
        outputs,
        no_noop,
        states,
        before,
    )
    floors = _floors(table)
    table.noop = _agree_slots(table, outputs, reference, FLOAT32_RTOL, floors).all(axis=1)
    extra, extra_outputs = [], []
    for i, a in enumerate(rule.hyper):
        for b in rule.hyper[i + 1 :]:
            env = _hyper_env(layout, hyper, (a, b))
            swapped, swapped_before = _singles(rule, env, reduce, (a, b))
            _, values = _run(rule, env, 0, {}, reduce)
            extra.append(Candidate((Edit("hyperparameters swapped", -1, f"self.{a}", f"self.{b}"),), (), None, (a, b)))
            extra_outputs.append(_stack_outputs(values, size)[None])
            _, block = _run_singles(rule, swapped, swapped_before, reduce, size)
            extra += [candidate for candidate, _ in swapped]
            extra_outputs.append(block)
    if extra:
        table.extra, table.extra_outputs = extra, np.concatenate(extra_outputs)
    return table


def _number_or_list(value):
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)


def _is_counter(rule, expr):
    """A returned value computed from t and constants only (the step counter): compared exactly."""
    names = _uses(expr)
    if not names or _uses(expr, ("hyp",)):
        return False
    origin = {ssa: expr for ssa, _, expr in rule.statements}
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in origin:
            if _uses(origin[name], ("hyp",)):
                return False
            todo += list(_uses(origin[name]))
        elif name != "t":
            return False
    return True
