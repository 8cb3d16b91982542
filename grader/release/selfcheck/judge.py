"""Verdicts from data: the student's answers (as the worker sent them) against the expected outputs in
cases.json, and, for a wrong answer, which known mistake's recorded outputs it matches on every case.

Tolerance (u: the unit roundoff of the coarser dtype, 2^-24 for float32): after k steps, an entry may be
off by 8·k·u·(|expected| + S), S the largest |value| expected so far; two correct orders of operations
stay within it. The cases' hyperparameters are exact in float32, so no allowance for their rounding is
needed. A mistake is named only when the student's outputs match its recorded outputs (twice that
tolerance, NaN and inf at the same places) on every single-step and sequence case of the part.
"""

import re

import numpy as np

from . import wire

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
        return f"{name} should be a tensor, got {wire.describe(got)}"
    if got.type not in TENSOR_TYPES:
        return f"{name} should be a plain torch.Tensor, got a {got.type}"
    if got.shape != wanted.shape:
        return f"{name} should have shape {list(wanted.shape)}, got shape {list(got.shape)}"
    if exact_dtype and got.dtype != wanted.dtype:
        return f"{name} should keep dtype {wanted.dtype}, got {got.dtype}"
    if not got.floating or got.array is None:
        return f"{name} should hold floating-point values, got {got.dtype}"
    mine, theirs = got.array, wanted.array
    finite = np.isfinite(theirs)
    if not np.isfinite(mine[finite]).all():
        return f"{name} holds inf or nan where the expected values are finite"
    if scale is None:
        scale = float(np.abs(theirs[finite]).max()) if finite.any() else 0.0
    bound = factor * 8 * k * _unit(got.dtype, wanted.dtype) * (np.abs(theirs) + scale)
    with np.errstate(invalid="ignore"):
        off = (np.abs(mine - theirs) > bound) & finite
    if off.any():
        index = tuple(int(i) for i in np.argwhere(off)[0])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        relative = abs(mine[index] - theirs[index]) / max(abs(theirs[index]), 1e-300)
        return f"{name}{where} should be {theirs[index]:.9g}, got {mine[index]:.9g} (relative error {relative:.2g})"
    return None


def step_problem(spec, case, got, wanted, factor=1.0):
    """The first problem with one per-key call's returned values, or None."""
    names = ("x", *spec["state"])
    if not isinstance(got, tuple) or len(got) != len(names):
        return f"{spec['method']}() should return a tuple ({', '.join(names)}), got {wire.describe(got)}"
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
                return f"the returned t should be {wanted[index]}, got {wire.describe(got[index])}"
            continue
        problem = tensor_problem(
            got[index],
            wanted[index],
            f"the returned {name}",
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
        return 1, "step() did not give the parameters of every step"
    scale = 0.0
    for k, (observed, expected) in enumerate(zip(got, wanted), start=1):
        for value in expected.values():
            if value.array.size and np.isfinite(value.array).any():
                scale = max(scale, float(np.nanmax(np.abs(value.array[np.isfinite(value.array)]))))
        if not isinstance(observed, dict) or set(observed) != set(expected):
            return (
                k,
                f"after step {k}, model.params should have the keys {sorted(expected)}, got {wire.describe(observed)}",
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
                return k, f"after step {k}: {problem}"
    return None


def error_text(spec, answer, what):
    kind, message, where = answer["error"], answer.get("message", ""), answer.get("where", "")
    if kind == "NotImplementedError":
        name = f"{spec['class_name']}.{spec['method']}" if "method" in spec else "train_f"
        return (
            f"{name} is not implemented yet ({message or 'NotImplementedError'}). Write its body from the "
            "update rule in its docstring, then delete the `raise NotImplementedError`."
        )
    if kind == "LookupError":
        return message
    return f"{what} raised {kind}: {message}{where}"


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
        return "It matches none of the known mistakes: compare your code with the update rule in the docstring."
    if len(named) == 1:
        return f"Likely mistake: {title}: your update matches {title} {named[0]['title']}. Fix: {named[0]['hint']}"
    return "Likely mistake, one of: " + "; ".join(f"{title} {m['title']} (fix: {m['hint']})" for m in named)


# ------------------------------------------------------------------------------------------ the tests


def _inputs_text(spec, case):
    named = [
        ("x", case["x"]),
        ("gradient_x", case["gradient_x"]),
        *zip(spec["state"], case["state"]),
        ("init_lr", case["init_lr"]),
        *zip(spec["hyper"], case["hyper"]),
    ]
    return "\n".join(f"  {name} = {wire.describe(wire.decode(value))}" for name, value in named)


def single_step(part, spec, answers):
    title = TITLES[part]
    for case, answer in zip(spec["single_step"], answers["single_step"]):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.{spec['method']}()"))
        got, wanted = answer["ok"]["result"], wire.decode(case["expected"])
        problem = step_problem(spec, case, got, wanted)
        if problem:
            raise Fail(
                f"{title}, one call of {spec['method']}(): {problem}\nInputs:\n{_inputs_text(spec, case)}\n"
                f"Expected: {wire.describe(wanted)}\nGot:      {wire.describe(got)}\n" + diagnosis(part, spec, answers)
            )


def _sequence_text(case):
    params = wire.decode(case["params"])
    keys = ", ".join(f"{key} {list(value.shape)}" for key, value in params.items())
    dtype = next(iter(params.values())).dtype
    return f"{len(case['gradients']['seq'])} calls of step() on a model with keys {keys} ({dtype}, init_lr={case['init_lr']!r}"


def sequence(part, spec, answers, test):
    title, oracle = TITLES[part], "torch.optim" if test == "torch_optim" else "the reference"
    for index, (case, answer) in enumerate(zip(spec[test], answers[test])):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.step()"))
        found = steps_problem(answer["ok"], wire.decode(case["expected"]))
        if found:
            k, problem = found
            hyper = ", ".join(f"{name}={value!r}" for name, value in zip(spec["hyper"], case["hyper"]))
            gradients = wire.decode(case["gradients"])[k - 1]
            raise Fail(
                f"{title}, {_sequence_text(case)}, {hyper}), against {oracle}: {problem}\n"
                f"Start: {wire.describe(wire.decode(case['params']))}\nGradients of step {k}: "
                f"{wire.describe(gradients)}\n" + diagnosis(part, spec, answers, test, index, answer)
            )


def _exactly(got, sent):
    return (
        isinstance(got, wire.Tensor)
        and got.dtype == sent.dtype
        and got.shape == sent.shape
        and got.array is not None
        and np.array_equal(got.array, sent.array, equal_nan=True)
    )


def invariants(part, spec, answers):
    title, name = TITLES[part], f"{spec['class_name']}.{spec['method']}"
    for index, (case, answer) in enumerate(zip(spec["invariants"], answers["invariants"])):
        per_key = answer["per_key"]
        if "error" in per_key:
            raise Fail(error_text(spec, per_key, f"{name}()"))
        if not _exactly(per_key["ok"]["gradient_after"], per_key["ok"]["gradient_sent"]):
            raise Fail(
                f"{name}() changes gradient_x in place; it must only read it (make new tensors, as in "
                "`x = x - ...`, never `gradient_x *= ...` or `gradient_x **= 2`)"
            )
        problem = step_problem(
            spec, case["per_key_case"], per_key["ok"]["result"], wire.decode(case["per_key_expected"])
        )
        if problem:
            raise Fail(
                f"{title}, one call of {spec['method']}(): {problem}. This test requires right values too "
                "(see the single_step test).\n" + diagnosis(part, spec, answers)
            )
        in_place = answer["in_place"]
        if "error" in in_place:
            raise Fail(error_text(spec, in_place, f"{spec['class_name']}.step()"))
        params = wire.decode(case["params"])
        sent = wire.decode(case["gradients"])
        for k, step in enumerate(in_place["ok"], start=1):
            for key, value in sent[k - 1].items():
                if not _exactly(step.get("grads", {}).get(key), value):
                    raise Fail(
                        f"{spec['class_name']}.step() changed model.grads[{key!r}] at step {k}: the optimizer "
                        "must not modify gradients"
                    )
            for key, value in step.get("params", {}).items():
                if isinstance(value, wire.Tensor) and key in params and value.dtype != params[key].dtype:
                    raise Fail(
                        f"step() turned model.params[{key!r}] from {params[key].dtype} into {value.dtype}; "
                        "keep the parameter's dtype"
                    )
                if isinstance(value, wire.Tensor) and value.device != "cpu":
                    raise Fail(f"step() moved model.params[{key!r}] from cpu to {value.device}")
        wanted = wire.decode(case["expected"])
        found = steps_problem([step.get("params") for step in in_place["ok"]], wanted)
        if found:
            k, problem = found
            fresh = answer["fresh"]
            if k > 1 and "ok" in fresh and steps_problem(fresh["ok"], wanted) is None:
                raise Fail(
                    f"{title}, {_sequence_text(case)}), each gradient written into the same tensor as autograd "
                    f"does: {problem}. With a new gradient tensor every step the parameters are right, so "
                    f"{spec['class_name']} keeps state that shares memory with a gradient, and the next gradient "
                    "written into it changes that state: start the state from a copy (or from 0) rather than "
                    "from gradient_x itself"
                )
            raise Fail(
                f"{title}, {_sequence_text(case)}): {problem}. This test requires right values too (see the "
                "sequence test).\n" + diagnosis(part, spec, answers, "invariants", index, fresh)
            )
    if "cuda" in answers:
        cuda = answers["cuda"]
        if "error" in cuda:
            raise Fail(error_text(spec, cuda, f"{spec['class_name']}.step() on the GPU"))
        for step in cuda["ok"]:
            for key, value in step.items():
                if isinstance(value, wire.Tensor) and not value.device.startswith("cuda"):
                    raise Fail(f"step() moved model.params[{key!r}] from the GPU to {value.device}")
        found = steps_problem(cuda["ok"], wire.decode(spec["invariants"][0]["expected"]))
        if found:
            raise Fail(f"{title} on the GPU: {found[1]}")


# ------------------------------------------------------------------------------------------ train_f

SNAPSHOT_IDIOMS = (
    (r"{x}\.numpy\(\)", "x.numpy(), a numpy view of the same memory"),
    (r"copy\.copy\({x}\)", "copy.copy(x): a shallow copy of a tensor shares its storage"),
    (r"{x}\.detach\(\)", "x.detach(), which shares the storage"),
    (r"{x}\.data", "x.data, which shares the storage"),
    (r"{x}\[:\]", "x[:], a view"),
    (r"{x}\.view\(.*\)", "x.view(...), a view"),
    (r"torch\.as_tensor\({x}\)", "torch.as_tensor(x), which returns x itself"),
    (r"(?:np|numpy)\.asarray\({x}\)", "np.asarray(x), a view of the same memory"),
    (r"{x}\.cpu\(\)", "x.cpu(), which returns x itself for a CPU tensor"),
    (r"{x}", "the tensor x itself"),
)
FIX = "record a real copy instead: x.clone() (or copy.deepcopy(x), x.tolist(), x.numpy().copy())"


def _idiom(source):
    for argument in re.findall(r"\.append\(\s*(.+?)\s*\)\s*(?:#.*)?$", source, flags=re.MULTILINE):
        for pattern, description in SNAPSHOT_IDIOMS:
            if re.fullmatch(pattern.format(x=r"[A-Za-z_][\w.]*(?:\[['\"]\w+['\"]\])?"), argument.strip()):
                return description
    return None


def _trajectory_problem(got, expected, in_place):
    points = got["points"]
    epoch = expected.shape[0]
    if not isinstance(points, wire.Tensor) or points.array is None:
        return (
            f"train_f should return (trajectory, losses) with the trajectory as a tensor, array or list of "
            f"points; it returned a {got['returned_type']} whose trajectory is {wire.describe(points)}"
        )
    array = points.array
    if array.size == 0:
        return f"train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with x_init), got none"
    array = array.reshape(array.shape[0], -1) if array.ndim else array
    if array.ndim != 2 or array.shape[1] != expected.shape[1]:
        return f"the trajectory should have shape [{epoch}, {expected.shape[1]}], got {list(array.shape)}"
    if (
        array.shape[0] == epoch
        and np.allclose(array[0], expected[1], rtol=1e-5, atol=1e-6)
        and not np.allclose(array[0], expected[0])
    ):
        return "the trajectory misses its initial point: record x before each step, so the first point is x_init"
    if array.shape[0] != epoch:
        return (
            f"train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with "
            f"x_init), got {array.shape[0]}"
        )
    if in_place and epoch > 1 and (array == array[-1]).all() and not np.array_equal(expected[0], expected[-1]):
        return "collapsed"
    tensor = wire.Tensor("Tensor", "float32", expected.shape, "cpu", expected)
    return tensor_problem(
        wire.Tensor("Tensor", "float32", array.shape, "cpu", array),
        tensor,
        "the trajectory",
        k=epoch,
        exact_dtype=False,
    )


def trajectory(spec, answers, test):
    in_place = test in ("in_place", "x_init_untouched")
    how = (
        "an optimizer that updates x in place (x -= lr * g)"
        if in_place
        else "an optimizer that makes a new x each step"
    )
    for case, answer in zip(spec["cases"], answers["in_place" if in_place else "out_of_place"]):
        if "error" in answer:
            raise Fail(error_text({}, answer, "train_f"))
        expected = np.asarray(case["expected"], dtype=np.float64)
        problem = _trajectory_problem(answer["ok"], expected, in_place)
        if test == "x_init_untouched":
            if problem:
                raise Fail(
                    "not judged: train_f's trajectory with an optimizer that updates in place is wrong "
                    "(see the in_place test)"
                )
            after = answer["ok"]["x_init_after"]
            if not (
                isinstance(after, wire.Tensor) and np.array_equal(after.array.reshape(-1), np.asarray(case["x_init"]))
            ):
                raise Fail(
                    "train_f changed the caller's x_init: with an optimizer that updates in place, the first "
                    "step writes into the very tensor that was passed in. Start from x_init.clone() if the "
                    "caller's tensor must stay as it was."
                )
            return
        if problem == "collapsed":
            idiom = _idiom(answers.get("source", ""))
            cause = f" It records {idiom}." if idiom else ""
            problem = (
                "every recorded point equals the last one: the trajectory holds views of the live tensor x, "
                f"which the in-place update keeps changing (the 'shallow copy' bug).{cause} Fix: {FIX}"
            )
        if problem:
            raise Fail(
                f"train_f with {how}, w={case['w']}, x_init={case['x_init']}, init_lr={case['init_lr']}, "
                f"epoch={case['epoch']}: {problem}"
            )


def judge(part, test, spec, outcome):
    """None when the test passes, else the failure's message."""
    if "error" in outcome:
        return outcome["error"]
    if "decoded" not in outcome:
        outcome["decoded"] = _decode_tree(outcome["answers"])
    answers = outcome["decoded"]
    try:
        if part == "trajectory":
            trajectory(spec, answers, test)
        elif test == "single_step":
            single_step(part, spec, answers)
        elif test == "invariants":
            invariants(part, spec, answers)
        else:
            sequence(part, spec, answers, test)
    except Fail as failure:
        return failure.message
    return None


def _decode_tree(item):
    """The worker's answers with every returned value decoded (done once per part)."""
    if isinstance(item, dict) and "ok" in item:
        return {"ok": wire.decode(item["ok"])}
    if isinstance(item, dict) and "error" in item:
        return item
    if isinstance(item, dict):
        return {key: _decode_tree(value) for key, value in item.items()}
    if isinstance(item, list):
        return [_decode_tree(value) for value in item]
    return item
