"""The book's home-made framework: differentiable ops with hand-written gradients, and the optimizer base.

An `Op` that has parameters keeps two dicts with the same keys: `params` (name -> tensor) and `grads`
(name -> tensor). An `Optimizer` updates every entry of `model.params` from `model.grads` in `step()`.
No autograd is involved anywhere: each op's `backward` is its analytic gradient.
"""

import torch


class Op:
    """Base of every differentiable piece: calling an op runs `forward`; `backward` fills `grads`."""

    def __init__(self):
        self.params = {}
        self.grads = {}

    def __call__(self, inputs):
        return self.forward(inputs)

    def forward(self, inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(inputs)")

    def backward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define backward(...)")


class Optimizer:
    """Keeps the learning rate and the model; `step()` updates `model.params` from `model.grads`."""

    def __init__(self, init_lr, model):
        _check_range("init_lr", init_lr, low=0.0)
        self.init_lr = init_lr
        self.model = model

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def _zero_state(self):
        """One state entry per parameter key, starting as the Python int 0, as in the book.

        `0` broadcasts against a tensor of any shape, dtype and device on the first update.
        """
        return {key: 0 for key in self.model.params}


def _check_range(name, value, low, high=None, high_inclusive=False):
    """Reject a hyperparameter outside [low, high) (or [low, high]) with a message that names it."""
    if isinstance(value, torch.Tensor) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a Python number, got {type(value).__name__}")
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if not value >= low or too_high:  # `not >=` also rejects NaN
        bracket = "]" if high_inclusive else ")"
        upper = "inf" if high is None else repr(high)
        raise ValueError(f"Invalid {name}: {value!r} (expected a value in [{low!r}, {upper}{bracket})")
