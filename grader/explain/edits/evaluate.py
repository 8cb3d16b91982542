"""Evaluating a rule with numpy: every probe call flattened into one vector of entries, so that one pass
computes a candidate on all the calls at once. Trusted side (stdlib and numpy only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NP_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


def _evaluate(expr, env, reduce, memo=None):
    """The value of `expr` in `env`. memo: id(subexpression) -> (subexpression, value) for one env, so that
    the many edits of one statement, which share their unchanged parts, evaluate only what changed."""
    kind = expr[0]
    if kind == "var":
        return env[expr[1]]
    if kind == "hyp":
        return env["self." + expr[1]]
    if kind == "const":
        return expr[1]
    if memo is not None:
        hit = memo.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
    if kind == "bin":
        value = _NP_BINARY[expr[1]](_evaluate(expr[2], env, reduce, memo), _evaluate(expr[3], env, reduce, memo))
    elif kind == "neg":
        value = np.negative(_evaluate(expr[1], env, reduce, memo))
    else:
        inner = _evaluate(expr[2], env, reduce, memo)
        function = expr[1]
        if function == "sqrt":
            value = np.sqrt(inner)
        elif function == "abs":
            value = np.abs(inner)
        elif function == "square":
            value = np.multiply(inner, inner)
        else:
            value = reduce(inner, function)
    if memo is not None:
        memo[id(expr)] = (expr, value)
    return value


def _reducer(segments):
    """sum/mean over each call's entries, broadcast back: segments are (start, stop) of the flat layout."""
    size = segments[-1][1] if segments else 0
    matrix = np.zeros((size, size))
    for start, stop in segments:
        matrix[start:stop, start:stop] = 1.0
    counts = matrix.sum(axis=0)

    def reduce(value, function):
        value = np.broadcast_to(np.asarray(value, dtype=np.float64), np.broadcast(value, np.empty(size)).shape)
        total = value @ matrix
        return total / counts if function == "mean" else total

    return reduce


def _as_array(value):
    """A tensor, array or number as a float64 numpy array (None if it is none of these)."""
    if value is None or isinstance(value, bool):
        return None
    if hasattr(value, "detach"):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        try:
            return value.double().numpy() if hasattr(value, "double") else np.asarray(value, dtype=np.float64)
        except Exception:  # noqa: BLE001 - a tensor that will not convert: no answer
            return None
    if isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
        return np.asarray(value, dtype=np.float64)
    return None


@dataclass
class _Layout:
    """The calls flattened into one vector of entries: each call a segment of the broadcast shape of its
    arguments; an input is that call's values broadcast over its segment."""

    shapes: list
    segments: list
    env: dict


def _layout(rule, calls, hyper, init_lr):
    """The calls flattened (a _Layout). A hyperparameter or init_lr is one number for every call, or a list with
    one number per call (spread over that call's entries)."""
    names = rule.inputs[:-1]
    shapes, segments, columns, start = [], [], {name: [] for name in names}, 0
    for call in calls:
        arrays = [_as_array(value) for value in call]
        if len(arrays) != len(names) or any(array is None for array in arrays):
            raise ValueError(f"each call needs {len(names)} numeric arguments ({', '.join(names)})")
        shape = np.broadcast_shapes(*(array.shape for array in arrays))
        size = int(np.prod(shape)) if shape else 1
        shapes.append(shape)
        segments.append((start, start + size))
        start += size
        for name, array in zip(names, arrays):
            columns[name].append(np.broadcast_to(array, shape).reshape(-1))
    env = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in columns.items()}
    env[rule.inputs[-1]] = _per_call(init_lr, segments)
    for name, value in hyper.items():
        env["self." + name] = _per_call(value, segments)
    return _Layout(shapes, segments, env)


def _per_call(value, segments):
    """A number as a float; a list of one number per call as a vector over the calls' entries."""
    if not isinstance(value, (list, tuple)):
        return float(value)
    if len(value) != len(segments):
        raise ValueError(f"{len(value)} values for {len(segments)} calls")
    return np.concatenate([np.full(stop - start, float(v)) for v, (start, stop) in zip(value, segments)])


def _run(rule, env, start, override, reduce, returns=None):
    """Evaluate statements from `start` on (override: index -> expr) and the return; (env, outputs)."""
    env = dict(env)
    for index in range(start, len(rule.statements)):
        ssa, _, expr = rule.statements[index]
        env[ssa] = _evaluate(override.get(index, expr), env, reduce)
    outputs = [_evaluate(value, env, reduce) for value in (returns or rule.returns)]
    return env, outputs


def _stack_outputs(outputs, size):
    """[outputs] -> array [..., n_out, size] (scalars and [size] vectors broadcast)."""
    arrays = [np.asarray(value, dtype=np.float64) for value in outputs]
    batch = np.broadcast_shapes(*(array.shape[:-1] if array.ndim == 2 else () for array in arrays))
    return np.stack([np.broadcast_to(array, (*batch, size)) for array in arrays], axis=-2)


def _with_errstate(function):
    def wrapped(*args, **kwargs):
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped
