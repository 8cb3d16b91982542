"""Every update rule of the unit as a pure function: tensors and numbers in, new tensors out.

These are the reference's per-key methods called with their hyperparameters given explicitly, so the
classes and these functions cannot drift apart. None of them mutates an argument. The grader calls
them as its oracle.
"""

from types import SimpleNamespace

from .optimizers import Adagrad, Adam, Momentum, Nesterov, RMSprop


def sgd(x, gradient_x, init_lr):
    """x - init_lr * g (the update of `SimpleBatchGD`)."""
    return x - init_lr * gradient_x


def adagrad(x, gradient_x, G, init_lr, *, epsilon):
    """Returns (x, G) after one AdaGrad update; see `Adagrad.adagrad`."""
    return Adagrad.adagrad(SimpleNamespace(epsilon=epsilon), x, gradient_x, G, init_lr)


def rmsprop(x, gradient_x, G, init_lr, *, beta, epsilon):
    """Returns (x, G) after one RMSprop update; see `RMSprop.rmsprop`."""
    return RMSprop.rmsprop(SimpleNamespace(beta=beta, epsilon=epsilon), x, gradient_x, G, init_lr)


def momentum(x, gradient_x, delta_x, init_lr, *, rho):
    """Returns (x, delta_x) after one momentum update; see `Momentum.momentum`."""
    return Momentum.momentum(SimpleNamespace(rho=rho), x, gradient_x, delta_x, init_lr)


def nesterov(x, gradient_x, delta_x, init_lr, *, rho):
    """Returns (x, delta_x) after one Nesterov update; see `Nesterov.nesterov`."""
    return Nesterov.nesterov(SimpleNamespace(rho=rho), x, gradient_x, delta_x, init_lr)


def adam(x, gradient_x, G, M, t, init_lr, *, beta1, beta2, epsilon):
    """Returns (x, G, M, t + 1) after one Adam update at step t; see `Adam.adam`."""
    hyper = SimpleNamespace(beta1=beta1, beta2=beta2, epsilon=epsilon)
    return Adam.adam(hyper, x, gradient_x, G, M, t, init_lr)
