"""Experiment 4: the framework's optimizers against torch.optim, step for step.

Exact counterparts (the same formulas; only rounding from the order of operations differs):

    SimpleBatchGD(lr)             SGD(lr)
    Momentum(lr, rho)             SGD(lr, momentum=rho)            the book's delta_x is -lr * buf
    Nesterov(lr, rho)             SGD(lr, momentum=rho, nesterov=True)
    Adagrad(lr, eps)              Adagrad(lr, eps=0, initial_accumulator_value=eps)   for every eps
    RMSprop(lr, beta, eps=0)      RMSprop(lr, alpha=beta, eps=0)
    Adam(lr, b1, b2, eps=0)       Adam(lr, betas=(b1, b2), eps=0)

RMSprop and Adam have no counterpart for eps > 0: the book puts eps inside the square root and
torch.optim adds it outside. With eps = 0 a zero gradient is 0/0 in both, so feed nonzero gradients.
"""

import torch

from .framework import Op
from .linear import Linear
from .optimizers import Adagrad, Adam, Momentum, Nesterov, RMSprop, SimpleBatchGD


def torch_counterpart(optimizer, params):
    """The torch.optim optimizer over `params` that takes the same steps as `optimizer`."""
    lr = optimizer.init_lr
    if isinstance(optimizer, SimpleBatchGD):
        return torch.optim.SGD(params, lr=lr)
    if isinstance(optimizer, Momentum):
        return torch.optim.SGD(params, lr=lr, momentum=optimizer.rho)
    if isinstance(optimizer, Nesterov):
        # torch.optim rejects nesterov=True without momentum; with rho = 0 Nesterov is plain SGD.
        return torch.optim.SGD(params, lr=lr, momentum=optimizer.rho, nesterov=optimizer.rho > 0)
    if isinstance(optimizer, Adagrad):
        return torch.optim.Adagrad(params, lr=lr, eps=0.0, initial_accumulator_value=optimizer.epsilon)
    if optimizer.epsilon != 0:
        raise ValueError(
            f"{type(optimizer).__name__} has no torch.optim counterpart for epsilon={optimizer.epsilon!r}: "
            "torch adds epsilon outside the square root; use epsilon=0"
        )
    if isinstance(optimizer, RMSprop):
        return torch.optim.RMSprop(params, lr=lr, alpha=optimizer.beta, eps=0.0)
    if isinstance(optimizer, Adam):
        return torch.optim.Adam(params, lr=lr, betas=(optimizer.beta1, optimizer.beta2), eps=0.0)
    raise TypeError(f"no torch.optim counterpart is known for {type(optimizer).__name__}")


class ParameterSet(Op):
    """A model that is only parameters, whose gradients the caller sets: for open-loop comparisons."""

    def __init__(self, params):
        super().__init__()
        self.params = {key: value.clone() for key, value in params.items()}
        self.grads = {key: torch.zeros_like(value) for key, value in params.items()}


def run_side_by_side(make_optimizer, params, gradients):
    """Step the framework's optimizer and its torch.optim counterpart through the same gradients.

    make_optimizer(model) builds the framework's optimizer; params maps keys to start tensors;
    gradients is a list (one entry per step) of dicts with the same keys. Gradients are fed open loop
    (not recomputed from the new parameters), so rounding differences are not amplified.
    Returns (ours, theirs): lists with the parameters (dicts of tensors) after each step.
    """
    model = ParameterSet(params)
    optimizer = make_optimizer(model)
    torch_params = {key: torch.nn.Parameter(value.clone()) for key, value in params.items()}
    torch_optimizer = torch_counterpart(optimizer, list(torch_params.values()))
    ours, theirs = [], []
    for step_gradients in gradients:
        model.grads = {key: g.clone() for key, g in step_gradients.items()}
        optimizer.step()
        ours.append({key: value.detach().clone() for key, value in model.params.items()})
        for key, parameter in torch_params.items():
            parameter.grad = step_gradients[key].clone()
        torch_optimizer.step()
        theirs.append({key: value.detach().clone() for key, value in torch_params.items()})
    return ours, theirs


def linear_sgd_step_against_torch(data, init_lr=0.01, seed=0):
    """One SGD step of the framework's Linear and of nn.Linear on the rows `data` ([x1, x2, y]).

    Both start from the same W *and the same b*: the book never copied the bias into nn.Linear (whose
    bias starts random), got slightly different weights, and called them equal. Done right they agree.
    Returns (ours, theirs): W after the step as [input_size, 1] tensors.
    """
    torch.manual_seed(seed)
    model = Linear(data.shape[1] - 1)
    inputs, labels = data[:, :-1], data[:, -1:]
    model(inputs)
    model.backward(labels)
    SimpleBatchGD(init_lr, model).step()

    torch.manual_seed(seed)
    reference_model = Linear(data.shape[1] - 1)
    layer = torch.nn.Linear(data.shape[1] - 1, 1)
    with torch.no_grad():
        layer.weight.copy_(reference_model.params["W"].T)
        layer.bias.copy_(reference_model.params["b"])
    sgd = torch.optim.SGD(layer.parameters(), lr=init_lr)
    # Half the MSE, whose gradient is the one Linear.backward computes.
    loss = 0.5 * torch.nn.functional.mse_loss(layer(inputs), labels)
    loss.backward()
    sgd.step()
    return model.params["W"], layer.weight.detach().T.clone()


def tolerance(k, dtype=torch.float32):
    """Relative tolerance after k steps of two correct implementations: 8·k·u, u the unit roundoff.

    Different orders of the same operations round differently; the error grows at most linearly over
    k open-loop steps, and the worst seen was 4.5·k·u (float32, torch 2.13), so 8·k·u has a margin of
    almost 2 while still catching any wrong formula, whose error is of the order of the step itself.
    """
    return 8 * k * torch.finfo(dtype).eps / 2


def worst_disagreement(ours, theirs):
    """max over steps k and entries of |ours - theirs| / (tolerance(k) · (|theirs| + S_k)).

    S_k is the largest |x| on the torch trajectory up to step k, so entries near zero are judged on the
    scale of the whole parameter. A result <= 1 means the two trajectories agree.
    """
    worst, scale = 0.0, 0.0
    for k, (mine, reference) in enumerate(zip(ours, theirs), start=1):
        scale = max([scale] + [value.abs().max().item() for value in reference.values() if value.numel()])
        for key, value in reference.items():
            bound = tolerance(k, value.dtype) * (value.abs() + scale)
            difference = (mine[key] - value).abs()
            if difference.numel():
                worst = max(worst, (difference / bound).max().item())
    return worst
