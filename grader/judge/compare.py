"""Trusted side: judge what came back from a submission against what was expected.

Everything received is checked for kind, shape, dtype and finiteness before any value is compared, and
values are compared as numbers here (a received object has no methods to lie with).

Tolerance: two correct implementations with different orders of operations differ by rounding only;
over k steps that stays within 8·k·u (u = unit roundoff of the coarser dtype) relative to |expected| + S,
S the largest |x| on the expected trajectory so far (reference.torch_check.tolerance has the reasoning).
A correct formula may also see its hyperparameters rounded to the tensors' dtype (`torch.lerp`'s weight,
`torch.tensor(beta1) ** t`, `1 - beta` computed in float32): `rounding_band` adds, where the first
comparison fails, what moving each hyperparameter by one unit in the last place (of it, or of 1 - it)
changes in the reference's result. A wrong rule is off by the order of a whole step.
"""

import torch

from grader.i18n import N_, _
from grader.sandbox.protocol import WireObject, WireTensor
from reference.torch_check import tolerance

TENSOR_TYPES = ("Tensor", "Parameter")


#: A value off the tolerance, in one line (the feedback page reads its two numbers back: messages.py).
SHOULD_BE = N_("{name} should be {expected}, got {got} (relative error {error:.2g})")


def describe(value):
    """A short readable form of a value that came back or was sent."""
    if isinstance(value, WireTensor):
        value = value.tensor
    if isinstance(value, torch.Tensor):
        body = torch.tensor(value.tolist(), dtype=torch.float64) if value.dtype.is_floating_point else value
        shape = list(value.shape)
        text = repr(body.tolist()) if value.numel() <= 12 else _("tensor of shape {shape}").format(shape=shape)
        return _("{values} ({dtype}, shape {shape})").format(
            values=text, dtype=str(value.dtype).replace("torch.", ""), shape=shape
        )
    if isinstance(value, WireObject):
        return _("a {type} ({text})").format(type=value.type_name, text=value.text)
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(item) for item in value) + ")"
    return repr(value)


BETA_LIKE = ("beta", "beta1", "beta2", "rho")  # used as h and as 1 - h: either may be the rounded one


def spacing(name, value, dtype):
    """One unit in the last place of `dtype` at a hyperparameter (or at 1 - it, if larger, for a
    moving-average weight): how far rounding it to the tensors' dtype can move it."""
    eps = torch.finfo(dtype).eps
    return abs(value) * eps if name not in BETA_LIKE else max(abs(value), abs(1 - value)) * eps


class HyperparameterReads:
    """An optimizer's hyperparameters as attributes (`self.beta1`), one *use* of one of them moved: every
    `uses`-th read of `name`, from the `use`-th on, returns value + `step`. A correct formula may round
    each use differently (a weight given to `torch.lerp`, `torch.tensor(beta2) ** t` beside a float
    `1 - beta2`), so each use is moved on its own. `reads` counts the reads of each name."""

    def __init__(self, values, name=None, use=0, uses=1, step=0.0):
        self._values, self._moved, self.reads = dict(values), (name, use, uses, step), {}

    def __getattr__(self, name):
        values = self.__dict__.get("_values", {})
        if name not in values:
            raise AttributeError(name)
        index = self.reads.get(name, 0)
        self.reads[name] = index + 1
        moved, use, uses, step = self._moved
        return values[name] + (step if name == moved and index % uses == use else 0.0)


def uses_per_call(method, hyper, *arguments):
    """{name: how many times one call of the per-key `method` reads it}: its uses."""
    reads = HyperparameterReads(hyper)
    method(reads, *arguments)
    return reads.reads


def rounding_band(compute, hyper, init_lr, dtype, uses):
    """Per returned tensor, twice the sum over each use of each hyperparameter (and over init_lr) of
    |compute(moved) - compute(nothing moved)|: what a correct formula fed rounded hyperparameters can
    be off by.

    compute(reads, init_lr) runs the reference's per-key method, once or over several steps, with
    `reads` (a HyperparameterReads) as its self, and returns a list of float64 tensors (float64, so that
    the differences are the hyperparameters' effect, not rounding). uses: see uses_per_call.
    """
    base = compute(HyperparameterReads(hyper), init_lr)
    moves = [
        (HyperparameterReads(hyper, name, use, uses[name], spacing(name, value, dtype)), init_lr)
        for name, value in hyper.items()
        if spacing(name, value, dtype)
        for use in range(uses.get(name, 0))
    ]
    moves.append((HyperparameterReads(hyper), init_lr + spacing("init_lr", init_lr, dtype)))
    band = [torch.zeros_like(value) for value in base]
    for reads, lr in moves:
        for total, shifted, value in zip(band, compute(reads, lr), base):
            total += (shifted - value).abs().nan_to_num(nan=0.0, posinf=0.0)
    return [2 * total for total in band]


def problem_with_tensor(got, expected, name, k=1, scale=None, exact_dtype=True, band=None):
    """None if `got` (as received) matches the tensor `expected`; else a sentence saying what is wrong.

    band: an extra allowance per entry (see rounding_band), on top of the rounding tolerance."""
    if not isinstance(got, WireTensor):
        kind = _("a {type}").format(type=got.type_name) if isinstance(got, WireObject) else f"{describe(got)}"
        return _("{name} should be a tensor, got {kind}").format(name=name, kind=kind)
    if got.type_name not in TENSOR_TYPES:
        return _("{name} should be a plain torch.Tensor, got a {type}").format(name=name, type=got.type_name)
    value = got.tensor
    if tuple(value.shape) != tuple(expected.shape):
        return _("{name} should have shape {expected}, got shape {got}").format(
            name=name, expected=list(expected.shape), got=list(value.shape)
        )
    if exact_dtype and value.dtype != expected.dtype:
        return _("{name} should keep dtype {expected}, got {got}").format(
            name=name, expected=_dtype(expected), got=_dtype(value)
        )
    if not value.dtype.is_floating_point:
        return _("{name} should hold floating-point values, got {got}").format(name=name, got=_dtype(value))
    if value.dtype == expected.dtype and bool(torch.equal(value, expected)):
        return None  # bit for bit (the common case: the book's order of operations); no NaN can be here
    coarser = value.dtype if torch.finfo(value.dtype).eps > torch.finfo(expected.dtype).eps else expected.dtype
    got64, expected64 = value.to(torch.float64), expected.to(torch.float64)
    finite = torch.isfinite(expected64)
    if not bool(torch.isfinite(got64[finite]).all()):
        return _("{name} holds inf or nan where the expected values are finite").format(name=name)
    scale = expected64[finite].abs().max().item() if scale is None and bool(finite.any()) else (scale or 0.0)
    bound = tolerance(k, coarser) * (expected64.abs() + scale) + (0.0 if band is None else band)
    off = ((got64 - expected64).abs() > bound) & finite
    if bool(off.any()):
        index = tuple(int(i) for i in off.nonzero()[0])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        shown_expected, shown_got = distinct(expected64[index].item(), got64[index].item(), 9)
        error = (got64[index] - expected64[index]).abs().item() / max(abs(expected64[index].item()), 1e-300)
        return _(SHOULD_BE).format(name=f"{name}{where}", expected=shown_expected, got=shown_got, error=error)
    return None


def _dtype(tensor):
    return str(tensor.dtype).replace("torch.", "")


def distinct(expected, got, digits=6):
    """The two numbers as text with at least `digits` significant digits, and as many more as it takes for the
    text to differ where the numbers do (up to repr: 17 digits)."""
    for precision in range(digits, 18):
        a, b = f"{expected:.{precision}g}", f"{got:.{precision}g}"
        if a != b or expected == got:
            return a, b
    return repr(expected), repr(got)


def problem_with_int(got, expected, name):
    """t comes back as a Python int (a 0-d integral tensor is accepted too)."""
    if isinstance(got, WireTensor) and got.tensor.numel() == 1:
        got = got.tensor.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)) or got != expected:
        return _("{name} should be {expected}, got {got}").format(name=name, expected=expected, got=describe(got))
    return None
