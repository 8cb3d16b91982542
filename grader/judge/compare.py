"""Trusted side: judge what came back from a submission against what was expected.

Everything received is checked for kind, shape, dtype and finiteness before any value is compared, and
values are compared as numbers here (a received object has no methods to lie with). The comparison
itself, its tolerance and its sentences are closeness.py's, which the student's self-check runs too:
this module turns what the wire format decoded into closeness's values, and adds what only the grader
knows (the reference, for the allowance of rounded hyperparameters).

A correct formula may see its hyperparameters rounded to the tensors' dtype (`torch.lerp`'s weight,
`torch.tensor(beta1) ** t`, `1 - beta` computed in float32): `rounding_band` adds, where the first
comparison fails, what moving each hyperparameter by one unit in the last place (of it, or of 1 - it)
changes in the reference's result. A wrong rule is off by the order of a whole step.
"""

import torch

from grader.sandbox.protocol import WireObject, WireTensor

from . import closeness
from .closeness import SHOULD_BE, distinct  # noqa: F401 -- the grader's names for them


def as_array(tensor, device=None, type_name="Tensor"):
    """A torch tensor as closeness.Array: its kind, and its numbers as float64 (exact for every float dtype)."""
    dtype = str(tensor.dtype).replace("torch.", "")
    values = None if tensor.is_complex() else tensor.detach().to("cpu", torch.float64).numpy()
    return closeness.Array(type_name, dtype, tuple(tensor.shape), device or str(tensor.device), values)


def received(value):
    """A value as the wire format decoded it (or a tensor of ours), as closeness's values."""
    if isinstance(value, WireTensor):
        return as_array(value.tensor, value.device, value.type_name)
    if isinstance(value, WireObject):
        return closeness.Other(value.type_name, value.text)
    if isinstance(value, torch.Tensor):
        return as_array(value)
    if isinstance(value, tuple):
        return tuple(received(item) for item in value)
    if isinstance(value, list):
        return [received(item) for item in value]
    if isinstance(value, dict):
        return {key: received(item) for key, item in value.items()}
    return value


def describe(value):
    """A short readable form of a value that came back or was sent."""
    return closeness.describe(received(value))


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
    """None if `got` (as received) matches the tensor `expected`; else a sentence saying what is wrong
    (closeness.tensor_problem). band: an extra allowance per entry (see rounding_band)."""
    return closeness.tensor_problem(
        received(got),
        as_array(expected),
        name,
        k=k,
        scale=scale,
        exact_dtype=exact_dtype,
        band=None if band is None else band.to(torch.float64).numpy(),
    )
