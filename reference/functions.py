"""The functions the optimizers are run on, each an `Op` with an analytic gradient.

An `Objective` keeps the point being optimised as `params['x']` (shape [2]): `forward(x)` stores x and
returns f(x); `backward()` stores the gradient at that x in `grads['x']`. `f` and `gradient` also take
a batch `[..., 2]`, which the plots use to draw surfaces.
"""

import torch

from .framework import Op


class Objective(Op):
    """A function of a point x = (x1, x2), optimised by updating `params['x']`."""

    #: Experiment 3 draws each function over this box (x1 range, x2 range).
    domain = ((-5.0, 5.0), (-5.0, 5.0))

    def __init__(self):
        super().__init__()
        self.params["x"] = torch.zeros(2)
        self.grads["x"] = torch.zeros(2)

    def forward(self, x):
        self.params["x"] = x
        return self.f(x)

    def backward(self):
        self.grads["x"] = self.gradient(self.params["x"])

    def f(self, x):
        raise NotImplementedError

    def gradient(self, x):
        raise NotImplementedError


class OptimizedFunction(Objective):
    """The 2D experiment's bowl f(x) = w · x² (x squared elementwise), gradient 2 w ⊙ x."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.as_tensor(w)
        self.params["x"] = torch.zeros_like(self.w)
        self.grads["x"] = torch.zeros_like(self.w)

    def f(self, x):
        return (self.w.to(x.device, x.dtype) * x * x).sum(-1)

    def gradient(self, x):
        return 2 * self.w.to(x.device, x.dtype) * x


class TiltedCubic(Objective):
    """f(x) = x1² + x2² + x2³ + x1·x2: a minimum at 0 and a saddle at (0.25, -0.5), unbounded below."""

    domain = ((-3.0, 3.0), (-3.0, 3.0))

    def f(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return x1 * x1 + x2 * x2 + x2 * x2 * x2 + x1 * x2

    def gradient(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return torch.stack([2 * x1 + x2, 2 * x2 + 3 * x2 * x2 + x1], dim=-1)


class NarrowBowl(Objective):
    """f(x) = x1²/20 + x2²: a long narrow valley along x1, twenty times flatter than across it."""

    domain = ((-10.0, 10.0), (-5.0, 5.0))

    def f(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return x1 * x1 / 20 + x2 * x2

    def gradient(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return torch.stack([x1 / 10, 2 * x2], dim=-1)


class Saddle(Objective):
    """f(x) = -x1²/2 + x2²: a saddle at 0, a minimum across x2 and a maximum along x1."""

    domain = ((-1.0, 2.0), (-1.0, 1.0))

    def f(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return -x1 * x1 / 2 + x2 * x2

    def gradient(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return torch.stack([-x1, 2 * x2], dim=-1)
