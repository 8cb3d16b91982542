"""The student's values against the expected ones in cases.json, and, for a wrong answer, which known
mistake's recorded outputs it matches on every case (judge.py asks, per test).

The comparisons, their tolerance and their sentences are the grader's own (closeness.py, shipped
unchanged). The cases' hyperparameters are exact in float32, so the grader's allowance for rounded
hyperparameters is never needed here. A mistake is named only when the student's outputs match its
recorded outputs (closeness.same_outputs: twice the tolerance, NaN and inf at the same places) on every
single-step and sequence case of the part.
"""

from . import closeness, wire
from .edit_lookup import explanation
from .i18n import _

TITLES = {"adagrad": "AdaGrad", "rmsprop": "RMSprop", "momentum": "Momentum", "adam": "Adam", "nesterov": "Nesterov"}


class Fail(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def step_problem(spec, case, got, wanted):
    """The first problem with one per-key call's returned values, or None."""
    return closeness.returned_problem(spec["method"], ("x", *spec["state"]), got, wanted, wire.decode(case["x"]))


def steps_problem(got, wanted):
    """(step, sentence) for the first step whose parameters are off, or None."""
    return closeness.steps_problem(got, wanted)


def error_text(spec, answer, what):
    kind, message, where = answer["error"], answer.get("message", ""), answer.get("where", "")
    if kind == "NotImplementedError":
        name = f"{spec['class_name']}.{spec['method']}" if "method" in spec else "train_f"
        return _(
            "{name} is not implemented yet ({message}). Write its body from the update rule in its docstring, "
            "then delete the `raise NotImplementedError`."
        ).format(name=name, message=message or "NotImplementedError")
    if kind == "LookupError":
        return message
    return _("{what} raised {kind}: {message}").format(what=what, kind=kind, message=message) + where


# ------------------------------------------------------------------------------------------ diagnosis


def _same(student, record, k_of=None):
    """Whether the student's answer matches a mistake's recorded outcome (both errors, or close values)."""
    if "error" in record:
        return "error" in student
    if "error" in student:
        return False
    mine, theirs = student["ok"], _decoded(record)
    if isinstance(mine, dict) and "result" in mine:
        mine = mine["result"]
    return closeness.same_outputs(mine, theirs)


_DECODED: dict = {}


def _decoded(record):
    """A recorded outcome decoded once (records stay alive in the loaded cases, so their ids are stable)."""
    if id(record) not in _DECODED:
        _DECODED[id(record)] = (record, wire.decode(record))
    return _DECODED[id(record)][1]


def diagnosis(part, spec, answers, test=None, index=None, student=None):
    """'Likely mistake: ...' when exactly the known mistakes matching every case are found, else a line
    saying it matches none of them."""
    if "matching" not in answers:  # the same for every test of the part: found once
        answers["matching"] = [
            mistake
            for mistake in spec["mistakes"]
            if all(_same(a, r) for a, r in zip(answers["single_step"], mistake["single_step"]))
            and all(_same(a, r) for a, r in zip(answers["sequence"], mistake["sequence"]))
        ]
    named = [
        mistake
        for mistake in answers["matching"]
        if test not in ("torch_optim", "invariants") or student is None or _same(student, mistake[test][index])
    ]
    title = TITLES.get(part, part)
    if not named:
        return explanation(spec, answers) or _(
            "It matches none of the known mistakes: compare your code with the update rule in the docstring."
        )
    # The bank's titles and hints are in cases.json in the release's language already (cases.py).
    if len(named) == 1:
        # Translators: {mistake} reads after the optimizer's name, as in "Adam without bias correction".
        return _("Likely mistake: {title}: your update matches {title} {mistake}. Fix: {hint}").format(
            title=title, mistake=named[0]["title"], hint=named[0]["hint"]
        )
    # Translators: the list of mistakes that follows, each "{title} {mistake} (fix: {hint})", joined with "; ".
    return _("Likely mistake, one of: ") + "; ".join(
        _("{title} {mistake} (fix: {hint})").format(title=title, mistake=m["title"], hint=m["hint"]) for m in named
    )
