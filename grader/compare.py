"""Trusted side: judge what came back from a submission against what was expected.

Everything received is checked for kind, shape, dtype and finiteness before any value is compared, and
values are compared as numbers here (a received object has no methods to lie with).

Tolerance: two correct implementations with different orders of operations differ by rounding only;
over k steps that stays within 8·k·u (u = unit roundoff of the coarser dtype) relative to |expected| + S,
S the largest |x| on the expected trajectory so far (reference.torch_check.tolerance has the reasoning).
A wrong rule is off by the order of a whole step.
"""

import torch

from reference.torch_check import tolerance
from .protocol import WireObject, WireTensor

TENSOR_TYPES = ("Tensor", "Parameter")


def describe(value):
    """A short readable form of a value that came back or was sent."""
    if isinstance(value, WireTensor):
        value = value.tensor
    if isinstance(value, torch.Tensor):
        body = torch.tensor(value.tolist(), dtype=torch.float64) if value.dtype.is_floating_point else value
        text = repr(body.tolist()) if value.numel() <= 12 else f"tensor of shape {list(value.shape)}"
        return f"{text} ({str(value.dtype).replace('torch.', '')}, shape {list(value.shape)})"
    if isinstance(value, WireObject):
        return f"a {value.type_name} ({value.text})"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(item) for item in value) + ")"
    return repr(value)


def problem_with_tensor(got, expected, name, k=1, scale=None, exact_dtype=True):
    """None if `got` (as received) matches the tensor `expected`; else a sentence saying what is wrong."""
    if not isinstance(got, WireTensor):
        kind = f"a {got.type_name}" if isinstance(got, WireObject) else f"{describe(got)}"
        return f"{name} should be a tensor, got {kind}"
    if got.type_name not in TENSOR_TYPES:
        return f"{name} should be a plain torch.Tensor, got a {got.type_name}"
    value = got.tensor
    if tuple(value.shape) != tuple(expected.shape):
        return f"{name} should have shape {list(expected.shape)}, got shape {list(value.shape)}"
    if exact_dtype and value.dtype != expected.dtype:
        return f"{name} should keep dtype {str(expected.dtype).replace('torch.', '')}, got {str(value.dtype).replace('torch.', '')}"
    if not value.dtype.is_floating_point:
        return f"{name} should hold floating-point values, got {str(value.dtype).replace('torch.', '')}"
    if value.dtype == expected.dtype and bool(torch.equal(value, expected)):
        return None  # bit for bit (the common case: the book's order of operations); no NaN can be here
    coarser = value.dtype if torch.finfo(value.dtype).eps > torch.finfo(expected.dtype).eps else expected.dtype
    got64, expected64 = value.to(torch.float64), expected.to(torch.float64)
    finite = torch.isfinite(expected64)
    if not bool(torch.isfinite(got64[finite]).all()):
        return f"{name} holds inf or nan where the expected values are finite"
    scale = expected64[finite].abs().max().item() if scale is None and bool(finite.any()) else (scale or 0.0)
    bound = tolerance(k, coarser) * (expected64.abs() + scale)
    off = ((got64 - expected64).abs() > bound) & finite
    if bool(off.any()):
        index = tuple(int(i) for i in off.nonzero()[0])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        return (f"{name}{where} should be {expected64[index].item():.9g}, got {got64[index].item():.9g} "
                f"(relative error {(got64[index] - expected64[index]).abs().item() / max(abs(expected64[index].item()), 1e-300):.2g})")
    return None


def problem_with_int(got, expected, name):
    """t comes back as a Python int (a 0-d integral tensor is accepted too)."""
    if isinstance(got, WireTensor) and got.tensor.numel() == 1:
        got = got.tensor.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)) or got != expected:
        return f"{name} should be {expected}, got {describe(got)}"
    return None
