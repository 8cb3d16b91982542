"""Values as JSON between the student's process and the self-check: a tensor as its type, dtype, shape,
device and numbers. Encoding needs torch (the worker); decoding needs only numpy (the pytest side), so
the pytest process never waits for `import torch`. Decoded values are the grader's own (closeness.py), so
the grader's comparisons judge them."""

import sys

import numpy as np

from . import closeness

MAX_DEPTH = 6


def encode(value, depth=0):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach()
        data = None if tensor.is_complex() else tensor.cpu().reshape(-1).tolist()
        return {
            "tensor": {
                "type": type(value).__name__,
                "dtype": str(tensor.dtype).replace("torch.", ""),
                "shape": list(tensor.shape),
                "device": str(tensor.device),
                "data": data,
            }
        }
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":  # numpy's scalars, as their Python number
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value if not isinstance(value, str) else value[:200]
    if depth < MAX_DEPTH and isinstance(value, (tuple, list)):
        return {"seq": [encode(item, depth + 1) for item in value], "kind": type(value).__name__}
    if depth < MAX_DEPTH and isinstance(value, dict):
        return {"dict": {str(key): encode(item, depth + 1) for key, item in value.items()}}
    try:
        text = repr(value)[:80]
    except Exception:  # noqa: BLE001 - a student's object may refuse to be printed
        text = "?"
    return {"other": type(value).__name__, "repr": text}


def decode(value):
    """A value as the worker encoded it, as closeness's values (Array, Other, tuples, lists, dicts)."""
    if isinstance(value, dict):
        if "tensor" in value:
            t = value["tensor"]
            array = None if t["data"] is None else np.asarray(t["data"], dtype=np.float64).reshape(t["shape"])
            return closeness.Array(t["type"], t["dtype"], tuple(t["shape"]), t["device"], array)
        if "seq" in value:
            items = [decode(item) for item in value["seq"]]
            return tuple(items) if value.get("kind") == "tuple" else items
        if "dict" in value:
            return {key: decode(item) for key, item in value["dict"].items()}
        if "other" in value:
            return closeness.Other(value["other"], value["repr"])
        if "error" in value:
            return value
    return value
