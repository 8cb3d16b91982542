"""The fitting experiment: its data set and the linear model trained on it."""

import torch

from .framework import Op

#: The weights the fitting data is generated from: y = X @ TRUE_W + noise.
TRUE_W = (0.5, 0.8)


def make_fitting_data(n_samples=1000, noise=0.01, seed=0):
    """The book's data set: rows [x1, x2, y] with y = 0.5 x1 + 0.8 x2 + noise * U(0, 1).

    Drawn on the CPU from `torch.manual_seed(seed)` (randn for X, then rand for the noise), so the
    course's printed numbers reproduce: X[0] = [-1.1258398, -1.1523602], y[0] = [-1.4770346].
    Returns a float32 tensor of shape [n_samples, 3].
    """
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn([n_samples, 2], generator=generator)
    y = X @ torch.tensor(TRUE_W) + noise * torch.rand([n_samples], generator=generator)
    return torch.cat([X, y[:, None]], dim=1)


class Linear(Op):
    """out = X @ W + b, with W of shape [input_size, 1] and b of shape [1].

    W is `torch.randn([input_size, 1])` drawn from the global RNG on the CPU (so that after
    `torch.manual_seed(0)` it is [[1.5409961], [-0.2934289]] as in the book), then moved to `device`.
    """

    def __init__(self, input_size, *, device=None, dtype=torch.float32):
        super().__init__()
        self.params["W"] = torch.randn([input_size, 1]).to(device=device, dtype=dtype)
        self.params["b"] = torch.zeros([1], device=device, dtype=dtype)
        self.grads["W"] = torch.zeros_like(self.params["W"])
        self.grads["b"] = torch.zeros_like(self.params["b"])
        self.inputs = None
        self.outputs = None

    def forward(self, inputs):
        self.inputs = inputs
        self.outputs = inputs @ self.params["W"] + self.params["b"]
        return self.outputs

    def backward(self, labels):
        """Gradient of half the mean squared error over the K rows of the last batch.

        grads['W'] = X^T (out - y) / K;  grads['b'] = sum(out - y) / K, shaped like b.
        """
        K = self.inputs.shape[0]
        residual = self.outputs - labels
        self.grads["W"] = self.inputs.T @ residual / K
        self.grads["b"] = residual.sum(dim=0) / K
