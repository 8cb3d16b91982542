"""Which known mistake does a wrong submission make? Runs on the trusted side, on plain tensors only.

A name is given only when it is right. A wrong output is first compared with every mistake of the bank
on the failing case; the failing case may be one where several mistakes coincide (a shrunk example,
beta = 0, a state of 0), so a mistake that matches there is only a candidate. It is named when it also
matches the student on the probe set: fixed inputs chosen so that every two mistakes of the bank, and
each mistake and the correct rule, give different results (tests/test_diagnosis.py proves it for every
pair). The probe set of a rule, all float32 on the CPU, sent to the submission in one round trip:
- a chain of PROBE_STEPS calls of the per-key method along the correct trajectory (the first with the
  state 0 and t = 1, then tensor state and t > 1), on a [2, 3] parameter whose gradients run from 5e-3
  to 2 with epsilon = 1e-4, so that g² ~ epsilon for some entries and not for others;
- one per-key call on a 0-d parameter with tensor state and t = 7;
- one `step()` sequence of PROBE_STEPS steps on two keys of one shape (shared or dropped state, t per key);
with hyperparameters away from 0, 0.5 and 1 and from the usual defaults (init_lr 0.05, betas 0.8 and
0.95, rho 0.7), so that swapped, half-swapped or hard-coded hyperparameters show. Every returned value
is compared (x and the state, t included), and the parameters after every step.

Tolerances (u is the unit roundoff of the inputs' dtype, 2⁻²⁴ for float32):
- one per-key call: |got - mistake| <= 16u · (|mistake| + S) elementwise, S the largest |value| of that
  output and of the matching input (x for x, G for G ...). Two correct implementations with different
  operation orders differ by a few u in one step (at most 4.5u measured), so 16u leaves room for any
  order of operations, while the probes separate every two mistakes by far more.
- k steps: `reference.torch_check.worst_disagreement` <= 1, i.e. 8·k·u, the bound that holds for two
  correct implementations over k open-loop steps.
NaN and inf never count as agreement: non-finite entries must sit at the same places in both (else
there is no match), and those entries are then left out; the entries that decide are finite (the test
of the probe set checks that no two mistakes differ only where both are non-finite).

When no mistake matches, the edit search (`grader.explain.edits`) looks for one or two edits of the reference rule
that reproduce every answer to the probes, the failing case and the probe step() run exactly, under the
same tolerances; the diagnosis shows the simplest as an edit of the formula. When none does, it says that
the update matches none of the known mistakes, and where the student first leaves the reference on the
probe set: which returned value, at which step of the chain, by how much.

Here: the verdict (Diagnosis, diagnose_step, diagnose_sequence) and the sentences it says, in the language the
process speaks (`grader.i18n`: only the words change; the slug, the numbers and the code are the same in every
language); the probe set and the student's answers to it in grader.explain.probes; the distances in tolerance
units in grader.explain.distance; the bank in grader.explain.mistakes, the edit search in grader.explain.edits.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from grader.i18n import _
from grader.judge.compare import distinct
from reference import rules
from reference.torch_check import tolerance

from . import edits
from .distance import (
    STEP_TOLERANCE_FACTOR,
    _as_float64,
    _dtype_of,
    _finite_max_abs,
    _first_wrong_step,
    _outputs_distance,
    _trajectory_distance,
)
from .mistakes import Mistake, hyperparameters, mistakes_for, optimizer_for, state_names
from .probes import (
    PROBE_HYPER,
    PROBE_LR,
    PROBE_STEPS,
    _call,
    _confirm,
    _probe_inputs,
    _scales,
    _simulate,
    fingerprint_distance,
    probe_calls,
    probe_fingerprint,
    student_fingerprint,
)

__all__ = [
    "PROBE_HYPER",
    "PROBE_LR",
    "PROBE_STEPS",
    "STEP_TOLERANCE_FACTOR",
    "Diagnosis",
    "diagnose_sequence",
    "diagnose_step",
    "edit_table",
    "explain_fingerprint",
    "fingerprint_distance",
    "probe_calls",
    "probe_fingerprint",
    "student_fingerprint",
]


@dataclass(frozen=True)
class Diagnosis:
    """What a wrong output is: a known mistake confirmed on the probes, or none of them."""

    mistake: Mistake | None
    """The known mistake, or None: it matches none of the bank (the message says where it goes wrong)."""
    message: str
    """Student-facing: the optimizer, what the output matches (or that it matches nothing known), the fix."""
    distance: float
    """The disagreement with the mistake on the failing case, in units of the tolerance (inf when none)."""
    also: tuple[Mistake, ...] = ()
    """Other mistakes confirmed on the probes too: empty whenever the probe set separates the bank."""
    first_wrong_step: int | None = None
    """Sequences only: the first step (1-based) after which the parameters leave the correct trajectory."""
    explanation: dict | None = None
    """When no known mistake matches: the edit(s) of the rule that reproduce the student exactly
    (`grader.explain.edits.Explanation.to_dict()`), or None where nothing within two edits does."""

    def to_dict(self) -> dict:
        """Plain JSON-ready data, e.g. for a score report's `extra_data`: the mistake's title and hint in the
        language spoken now, the message in the one spoken when it was diagnosed (the same in a grading process)."""
        return {
            "rule": self.mistake.rule if self.mistake else None,
            "slug": self.mistake.slug if self.mistake else None,
            "title": _(self.mistake.title) if self.mistake else None,
            "hint": self.mistake.fix() if self.mistake else None,
            "message": self.message,
            "distance": self.distance,
            "also": [mistake.slug for mistake in self.also],
            "first_wrong_step": self.first_wrong_step,
            "explanation": self.explanation,
        }


def diagnose_step(rule: str, inputs: dict, hyper: dict, got, run_probes: Callable[[list], list]) -> Diagnosis | None:
    """What the wrong output `got` of one per-key call is: None when it is right.

    inputs: dict(x=..., gradient_x=..., <state by name, e.g. G, M, t>, init_lr=...), the arguments the
    student's per-key method was called with (state may be the int 0, as on the first step).
    hyper: the rule's hyperparameters by name (e.g. beta1, beta2, epsilon for "adam").
    got: the tuple the student's method returned, e.g. (x, G, M, t) for "adam"; every element is compared.
    run_probes: given `probe_calls(rule)`, the student's answers (`Sandbox.call_many`); called once, only
    when `got` is wrong. A mistake is named when it matches `got` and every probe; otherwise the
    Diagnosis has mistake None and says where the student first leaves the reference on the probes.
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
    candidates = {}
    for mistake in mistakes_for(rule):
        if not mistake.per_key:
            continue
        output = _call(lambda *args: mistake.update(*args[:-1], init_lr=args[-1], **hyper), arguments)  # noqa: B023 -- called at once, in this iteration
        if output is None:
            continue
        score = distance(got, output)
        if score <= 1 and distance(output, correct) > 1:
            candidates[mistake] = score
    check = (arguments[:-1], got, hyper, arguments[-1], tol)
    return _verdict(rule, candidates, run_probes, "update", None, checks=(check,))


def diagnose_sequence(
    rule: str,
    params: dict,
    gradients: list,
    hyper: dict,
    got: list,
    run_probes: Callable[[list], list],
    *,
    init_lr: float | None = None,
) -> Diagnosis | None:
    """What the wrong parameter trajectory `got` is (a per-key or a `step` mistake): None when it is right.

    params: key -> start tensor; gradients: one dict key -> tensor per step, fed open loop;
    hyper: the rule's hyperparameters by name, with init_lr either in it or given by keyword;
    got: one dict key -> tensor per step, the student's `model.params` after each `step()` (it may be
    shorter than `gradients`, e.g. when the student's code failed part way: the steps it has are used).
    run_probes: as for `diagnose_step`. Every mistake is simulated with `reference.torch_check.ParameterSet`.
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

    correct = _simulate(optimizer_for(rule), params, gradients, init_lr, hyper)
    if _trajectory_distance(got, correct) <= 1:
        return None
    candidates = {}
    for mistake in mistakes_for(rule):
        try:
            trajectory = _simulate(mistake.optimizer_class(), params, gradients, init_lr, hyper)
        except Exception:  # noqa: BLE001 - e.g. a shared state across keys whose shapes do not broadcast
            continue
        score = _trajectory_distance(got, trajectory)
        if score <= 1 and _trajectory_distance(trajectory, correct) > 1:
            candidates[mistake] = score
    unit = torch.finfo(_dtype_of(next(iter(params.values()), None))).eps / 2
    sequence = (params, gradients, got, hyper, init_lr, unit)
    return _verdict(rule, candidates, run_probes, "parameters", _first_wrong_step(got, correct), sequences=(sequence,))


@functools.cache
def edit_table(rule: str):
    """The edit search's table for `rule` on the probe calls (computed once per process: it does not depend
    on the student)."""
    per_key, _sequences = _probe_inputs(rule)
    program = edits.Rule.from_function(getattr(optimizer_for(rule), rule))
    return edits.candidate_table(program, [list(arguments) for arguments in per_key], PROBE_HYPER[rule], PROBE_LR)


def explain_fingerprint(rule: str, fingerprint, *, sequences=(), checks=()):
    """The edit search on the student's answers to the probes (`student_fingerprint`'s first value):
    a `grader.explain.edits.Explanation` or None. The probe step() run is always among the sequences confirmed."""
    outputs, trajectory = fingerprint
    if trajectory is None or any(output is None for output in outputs):
        return None
    table = edit_table(rule)
    per_key, (params, gradients) = _probe_inputs(rule)
    probe_run = (params, gradients, trajectory, PROBE_HYPER[rule], PROBE_LR, 2.0**-24)
    return edits.explain(
        table.rule,
        [list(arguments) for arguments in per_key],
        list(outputs),
        hyper=PROBE_HYPER[rule],
        init_lr=PROBE_LR,
        table=table,
        rtol=STEP_TOLERANCE_FACTOR * tolerance(1, torch.float32),
        sequences=(probe_run, *sequences),
        checks=checks,
    )


def _verdict(rule, candidates, run_probes, what, first_wrong_step, sequences=(), checks=()):
    confirmed, fingerprint, errors, problem = _confirm(rule, list(candidates), run_probes)
    name = optimizer_for(rule).__name__
    update = what == "update"  # else "parameters": a step() sequence
    head = name
    if first_wrong_step:
        # Translators: the start of a diagnosis of a step() sequence, before a colon: "Adam, from step 2".
        head = _("{optimizer}, from step {step}").format(optimizer=name, step=first_wrong_step)
    if len(confirmed) == 1:
        mistake = confirmed[0]
        if update:
            # Translators: {head} is the optimizer's name ("Adam"), {mistake} a known mistake's name ("Adam without
            # bias correction"), {hint} one sentence on how to fix it.
            text = _("{head}: your update matches {mistake}. Fix: {hint}")
        else:
            # Translators: as "your update matches", for the parameters after each step() ({head}: "Adam, from step 2").
            text = _("{head}: your parameters match {mistake}. Fix: {hint}")
        text = text.format(head=head, mistake=mistake.named(), hint=mistake.fix())
        return Diagnosis(mistake, text, candidates[mistake], (), first_wrong_step)
    if problem is not None:
        # Translators: {problem} is a Python error as it was raised ("TimeoutError: ..."): keep it as is.
        detail = _("the grader could not run its probe inputs on your code ({problem}), so it names no mistake.")
        detail = detail.format(problem=problem)
    elif confirmed:  # cannot happen while the probe set separates the bank (a test holds it); no guess
        detail = _("it matches more than one known mistake on the probe inputs, so the grader names none.")
    elif (found := _explanation(rule, fingerprint, sequences, checks)) is not None:
        if update:
            # Translators: {explanation} follows on the next lines: the rule's lines next to the student's code.
            text = _(
                "{head}: your update matches none of the known {optimizer} mistakes, but an edit of the rule "
                "reproduces every value your code returned: {explanation}"
            )
        else:
            text = _(
                "{head}: your parameters match none of the known {optimizer} mistakes, but an edit of the rule "
                "reproduces every value your code returned: {explanation}"
            )
        text = text.format(head=head, optimizer=name, explanation=found.text)
        return Diagnosis(None, text, math.inf, (), first_wrong_step, found.to_dict())
    else:
        detail = _divergence(rule, fingerprint, errors)
    if update:
        # Translators: {detail} is a sentence that says where the student's code first goes wrong.
        text = _("{head}: your update matches none of the known {optimizer} mistakes; {detail}")
    else:
        text = _("{head}: your parameters match none of the known {optimizer} mistakes; {detail}")
    return Diagnosis(None, text.format(head=head, optimizer=name, detail=detail), math.inf, (), first_wrong_step)


#: Set OPTIMKIT_EDIT_SEARCH=off to grade without the edit search (bench/explain_speed.py measures its cost).
EDIT_SEARCH_VARIABLE = "OPTIMKIT_EDIT_SEARCH"


def _explanation(rule, fingerprint, sequences, checks):
    """The edit search's explanation, or None (also when the search itself fails: no guess)."""
    if os.environ.get(EDIT_SEARCH_VARIABLE, "").lower() in ("off", "0", "no"):
        return None
    try:
        return explain_fingerprint(rule, fingerprint, sequences=sequences, checks=checks)
    except Exception:  # noqa: BLE001 - the verdict stands without an explanation
        return None


def _divergence(rule, fingerprint, errors):
    """Where the student's answers to the probes first leave the reference's: a sentence."""
    per_key, (params, _gradients) = _probe_inputs(rule)
    correct = probe_fingerprint(rule, None)
    names = ("x", *state_names(rule))
    hyper = ", ".join(f"{key}={value!r}" for key, value in {"init_lr": PROBE_LR, **PROBE_HYPER[rule]}.items())
    # Translators: {hyperparameters} is a list of Python assignments ("init_lr=0.05, rho=0.7"): keep it as is.
    setting = _("the grader's probe run ({hyperparameters}, float32)").format(hyperparameters=hyper)
    tol = STEP_TOLERANCE_FACTOR * tolerance(1, torch.float32)
    for index, (arguments, mine, expected) in enumerate(zip(per_key, fingerprint[0], correct[0])):
        if index < PROBE_STEPS:
            # Translators: where a value is wrong; {setting} is "the grader's probe run (...)", {shape} a list ("[2, 3]").
            at = _("at step {step} of {setting} on a {shape} parameter")
            at = at.format(step=index + 1, setting=setting, shape=list(arguments[0].shape))
        else:
            at = _("in {setting} on a 0-d parameter with state from a later step").format(setting=setting)
        if t_index := (names.index("t") + 1 if "t" in names else None):
            # Translators: follows the place of a wrong value ("at step 1 of ... parameter"): Adam's step counter.
            at += _(" (t = {t})").format(t=arguments[t_index])
        if mine is None:
            # Translators: {error} ends the sentence: "raised ValueError: ..." or "did not return a tuple".
            return _("{at}, your {function}() {error}.").format(
                at=at, function=rule, error=errors[index] or _("did not return a tuple")
            )
        if len(mine) != len(expected):
            return _("{at}, your {function}() returned {count} values; it should return {expected} ({names}).").format(
                at=at, function=rule, count=len(mine), expected=len(expected), names=", ".join(names)
            )
        for name, value, wanted, scale in zip(names, mine, expected, _scales(rule, arguments)):
            off = _first_off(value, wanted, scale, tol)
            if off:
                # Translators: {off} is the value with what is wrong with it: "x[0, 0] should be 1.5, got 2.5 (...)".
                return _("{at}, the returned {name} is the first to differ: {off}.").format(
                    at=at, name=name, off=f"{name}{off}"
                )
    if fingerprint[1] is None:
        return _("on {setting}, step() {error}.").format(
            setting=setting, error=errors[-1] or _("did not report its parameters")
        )
    for k in range(1, len(correct[1]) + 1):
        if _trajectory_distance(fingerprint[1][:k], correct[1][:k]) > 1:
            keys = ", ".join(f"{key} {list(value.shape)}" for key, value in params.items())
            off = next(
                (
                    f"model.params[{key!r}]{_first_off(fingerprint[1][k - 1].get(key), wanted, 0.0, tolerance(k))}"
                    for key, wanted in correct[1][k - 1].items()
                    if _trajectory_distance([{key: fingerprint[1][k - 1].get(key)}], [{key: wanted}]) > 1
                ),
                "",
            )
            values = dict(function=rule, keys=keys, setting=setting, step=k, off=off)
            if off:
                # Translators: {keys} lists the model's keys and shapes ("W [2, 3], b [3]"); {off} is a wrong value
                # ("model.params['W'][0, 1] should be 0.25, got 0.5 (relative error 1)").
                text = _(
                    "your {function}() agrees with the reference on the probe inputs, but step() on a model with keys "
                    "{keys} ({setting}) leaves the reference after step {step}: {off}."
                )
            else:
                text = _(
                    "your {function}() agrees with the reference on the probe inputs, but step() on a model with keys "
                    "{keys} ({setting}) leaves the reference after step {step}."
                )
            return text.format(**values)
    return _(
        "on {setting} your code agrees with the reference; it goes wrong only on inputs like the ones shown above."
    ).format(setting=setting)


def _first_off(value, wanted, scale, tol):
    """'[i, j] should be A, got B (relative error R)' for the first entry out of tolerance, or ''."""
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if value == wanted and not isinstance(value, bool):
            return ""
        # Translators: follows a value's name ("t"); {wanted} and {got} are numbers as Python writes them.
        return _(" should be {wanted}, got {got}").format(wanted=wanted, got=repr(value))
    if not isinstance(value, torch.Tensor):
        # Translators: follows a value's name ("x"); {kind} is a Python type's name ("list", "NoneType").
        return _(" should be a tensor, got {kind}").format(kind=type(value).__name__)
    if tuple(value.shape) != tuple(wanted.shape):
        # Translators: follows a value's name ("x"); the shapes are lists ("[2, 3]").
        return _(" should have shape {wanted}, got {got}").format(wanted=list(wanted.shape), got=list(value.shape))
    mine, theirs = _as_float64(value), _as_float64(wanted)
    bound = tol * (theirs.abs() + max(scale, _finite_max_abs(theirs)))
    off = ~((mine == theirs) | ((mine - theirs).abs() <= bound))
    if not bool(off.any()):
        return ""
    index = tuple(int(i) for i in off.nonzero()[0])
    where = f"[{', '.join(map(str, index))}]" if index else ""
    expected, received = theirs[index].item(), mine[index].item()
    relative = abs(received - expected) / max(abs(expected), 1e-300)
    shown_expected, shown_received = distinct(expected, received, 6)
    # Translators: follows a value's name and index ("x[0, 1]"); {wanted} and {got} are numbers.
    text = _(" should be {wanted}, got {got} (relative error {relative:.2g})")
    return where + text.format(wanted=shown_expected, got=shown_received, relative=relative)


def _checked_hyper(rule, hyper):
    expected = hyperparameters(rule)
    if set(hyper) != set(expected):
        raise ValueError(f"{rule} hyperparameters are {', '.join(expected)}; got {', '.join(map(str, hyper))}")
    return dict(hyper)
