"""The student's values against the expected ones in cases.json, and, for a wrong answer, which known
mistake's recorded outputs it matches on every case (judge.py asks, per test).

Tolerance (u: the unit roundoff of the coarser dtype, 2^-24 for float32): after k steps, an entry may be
off by 8·k·u·(|expected| + S), S the largest |value| expected so far; two correct orders of operations
stay within it. The cases' hyperparameters are exact in float32, so no allowance for their rounding is
needed. A mistake is named only when the student's outputs match its recorded outputs (twice that
tolerance, NaN and inf at the same places) on every single-step and sequence case of the part.
"""

import numpy as np

from . import wire
from .i18n import _

UNIT = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
TENSOR_TYPES = ("Tensor", "Parameter")
TITLES = {"adagrad": "AdaGrad", "rmsprop": "RMSprop", "momentum": "Momentum", "adam": "Adam", "nesterov": "Nesterov"}


class Fail(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _unit(*dtypes):
    return max(UNIT.get(dtype, 2.0**-8) for dtype in dtypes)


def tensor_problem(got, wanted, name, k=1, scale=None, exact_dtype=True, factor=1.0):
    """None if the decoded `got` matches the decoded tensor `wanted`, else a sentence."""
    if not isinstance(got, wire.Tensor):
        return _("{name} should be a tensor, got {value}").format(name=name, value=wire.describe(got))
    if got.type not in TENSOR_TYPES:
        return _("{name} should be a plain torch.Tensor, got a {type}").format(name=name, type=got.type)
    if got.shape != wanted.shape:
        return _("{name} should have shape {wanted}, got shape {got}").format(
            name=name, wanted=list(wanted.shape), got=list(got.shape)
        )
    if exact_dtype and got.dtype != wanted.dtype:
        return _("{name} should keep dtype {wanted}, got {got}").format(name=name, wanted=wanted.dtype, got=got.dtype)
    if not got.floating or got.array is None:
        return _("{name} should hold floating-point values, got {dtype}").format(name=name, dtype=got.dtype)
    mine, theirs = got.array, wanted.array
    finite = np.isfinite(theirs)
    if not np.isfinite(mine[finite]).all():
        return _("{name} holds inf or nan where the expected values are finite").format(name=name)
    if scale is None:
        scale = float(np.abs(theirs[finite]).max()) if finite.any() else 0.0
    bound = factor * 8 * k * _unit(got.dtype, wanted.dtype) * (np.abs(theirs) + scale)
    with np.errstate(invalid="ignore"):
        off = (np.abs(mine - theirs) > bound) & finite
    if off.any():
        index = tuple(int(i) for i in np.argwhere(off)[0])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        relative = abs(mine[index] - theirs[index]) / max(abs(theirs[index]), 1e-300)
        return _("{name} should be {wanted:.9g}, got {got:.9g} (relative error {relative:.2g})").format(
            name=f"{name}{where}", wanted=theirs[index], got=mine[index], relative=relative
        )
    return None


def step_problem(spec, case, got, wanted, factor=1.0):
    """The first problem with one per-key call's returned values, or None."""
    names = ("x", *spec["state"])
    if not isinstance(got, tuple) or len(got) != len(names):
        return _("{method}() should return a tuple ({names}), got {value}").format(
            method=spec["method"], names=", ".join(names), value=wire.describe(got)
        )
    x_in = wire.decode(case["x"]).array
    scale = max(
        float(np.nanmax(np.abs(x_in))) if x_in.size else 0.0,
        float(np.nanmax(np.abs(wanted[0].array))) if wanted[0].array.size else 0.0,
    )
    for index, name in enumerate(names):
        if name == "t":
            value = got[index]
            if isinstance(value, wire.Tensor) and value.array is not None and value.array.size == 1:
                value = float(value.array.reshape(-1)[0])
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != wanted[index]:
                return _("the returned t should be {wanted}, got {got}").format(
                    wanted=wanted[index], got=wire.describe(got[index])
                )
            continue
        problem = tensor_problem(
            got[index],
            wanted[index],
            _("the returned {name}").format(name=name),
            scale=scale if name == "x" else None,
            exact_dtype=name == "x",
            factor=factor,
        )
        if problem:
            return problem
    return None


def steps_problem(got, wanted, factor=1.0, exact_dtype=True):
    """(step, sentence) for the first step whose parameters are off, or None."""
    if not isinstance(got, list) or len(got) != len(wanted):
        return 1, _("step() did not give the parameters of every step")
    scale = 0.0
    for k, (observed, expected) in enumerate(zip(got, wanted), start=1):
        for value in expected.values():
            if value.array.size and np.isfinite(value.array).any():
                scale = max(scale, float(np.nanmax(np.abs(value.array[np.isfinite(value.array)]))))
        if not isinstance(observed, dict) or set(observed) != set(expected):
            return (
                k,
                _("after step {k}, model.params should have the keys {keys}, got {value}").format(
                    k=k, keys=sorted(expected), value=wire.describe(observed)
                ),
            )
        for key in sorted(expected):
            problem = tensor_problem(
                observed[key],
                expected[key],
                f"model.params[{key!r}]",
                k=k,
                scale=scale,
                exact_dtype=exact_dtype,
                factor=factor,
            )
            if problem:
                return k, _("after step {k}: {problem}").format(k=k, problem=problem)
    return None


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
    return _close(mine, theirs, 1)


_DECODED: dict = {}


def _decoded(record):
    """A recorded outcome decoded once (records stay alive in the loaded cases, so their ids are stable)."""
    if id(record) not in _DECODED:
        _DECODED[id(record)] = (record, wire.decode(record))
    return _DECODED[id(record)][1]


def _close(mine, theirs, k):
    if isinstance(theirs, wire.Tensor):
        if not isinstance(mine, wire.Tensor) or mine.shape != theirs.shape or mine.array is None:
            return False
        a, b = mine.array, theirs.array
        if not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return False
        finite = np.isfinite(b)
        scale = float(np.abs(b[finite]).max()) if finite.any() else 0.0
        return bool(
            (
                np.abs(a[finite] - b[finite]) <= 16 * k * _unit(mine.dtype, theirs.dtype) * (np.abs(b[finite]) + scale)
            ).all()
        )
    if isinstance(theirs, (tuple, list)):
        if not isinstance(mine, (tuple, list)) or len(mine) != len(theirs):
            return False
        steps = isinstance(theirs, list) and theirs and isinstance(theirs[0], dict)
        return all(_close(m, t, index + 1 if steps else k) for index, (m, t) in enumerate(zip(mine, theirs)))
    if isinstance(theirs, dict):
        return (
            isinstance(mine, dict)
            and set(mine) == set(theirs)
            and all(_close(mine[key], theirs[key], k) for key in theirs)
        )
    if isinstance(mine, wire.Tensor) and mine.array is not None and mine.array.size == 1:
        mine = float(mine.array.reshape(-1)[0])
    return mine == theirs


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
        from .edit_lookup import explanation  # noqa: PLC0415 -- here only: the rest of values.py is being rewritten

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
