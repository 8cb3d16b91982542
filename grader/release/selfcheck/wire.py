"""Values as JSON between the student's process and the self-check: a tensor as its type, dtype, shape,
device and numbers. Encoding needs torch (the worker); decoding needs only numpy (the pytest side), so
the pytest process never waits for `import torch`. Standalone: the worker imports it by file name."""

import sys
from dataclasses import dataclass

import numpy as np

from .i18n import _

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


@dataclass
class Tensor:
    type: str
    dtype: str
    shape: tuple
    device: str
    array: object  # numpy float64 array of that shape, or None (complex)

    @property
    def floating(self):
        return self.dtype.startswith(("float", "bfloat"))


@dataclass
class Other:
    type: str
    repr: str


def decode(value):
    if isinstance(value, dict):
        if "tensor" in value:
            t = value["tensor"]
            array = None if t["data"] is None else np.asarray(t["data"], dtype=np.float64).reshape(t["shape"])
            return Tensor(t["type"], t["dtype"], tuple(t["shape"]), t["device"], array)
        if "seq" in value:
            items = [decode(item) for item in value["seq"]]
            return tuple(items) if value.get("kind") == "tuple" else items
        if "dict" in value:
            return {key: decode(item) for key, item in value["dict"].items()}
        if "other" in value:
            return Other(value["other"], value["repr"])
        if "error" in value:
            return value
    return value


def describe(value):
    """A short, readable account of a decoded value, for messages."""
    if isinstance(value, Tensor):
        kind = _("{dtype}, shape {shape}").format(dtype=value.dtype, shape=list(value.shape))
        if value.device != "cpu":
            kind += _(", on {device}").format(device=value.device)
        if value.array is None:
            return _("a {type} ({details})").format(type=value.type, details=kind)
        numbers = value.array.reshape(-1)
        shown = ", ".join(f"{number:.9g}" for number in numbers[:6]) + (", ..." if numbers.size > 6 else "")
        text = shown if value.shape == () else f"[{shown}]"
        return _("{values} ({details})").format(values=text, details=kind)
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(item) for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {describe(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Other):
        return _("a {type} ({details})").format(type=value.type, details=value.repr)
    return repr(value)
