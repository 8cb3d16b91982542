"""The optimizers of the unit, with the book's constructors and per-key methods.

Each adaptive optimizer has a per-key method that takes one parameter `x`, its gradient and its state,
and returns the new parameter and the new state without mutating any of its inputs; `step()` loops over
the keys and stores the results back. State starts as the Python int 0 (see `Optimizer._zero_state`).

The per-key methods read nothing from `self` but hyperparameters, so each is a pure function of
(hyperparameters, inputs): `reference.rules` exposes them as such for the grader.

The bodies between `# BEGIN SOLUTION` and `# END SOLUTION` are what students write: `python -m grader
assign` replaces each with `raise NotImplementedError(...)` in the student file (Nesterov's is kept there,
as an optional bonus; the list is `grader.assignment.exercises`).
"""

import torch

from .framework import Optimizer, _check_range


class SimpleBatchGD(Optimizer):
    """Plain gradient descent: x <- x - lr * g, written out of place."""

    def __init__(self, init_lr, model):
        super().__init__(init_lr=init_lr, model=model)

    def step(self):
        for key in self.model.params:
            self.model.params[key] = self.model.params[key] - self.init_lr * self.model.grads[key]


class Adagrad(Optimizer):
    """AdaGrad: every coordinate's step shrinks with the sum of its squared gradients."""

    def __init__(self, init_lr, model, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        _check_range("epsilon", epsilon, low=0.0)
        self.epsilon = epsilon
        self.G = self._zero_state()

    def adagrad(self, x, gradient_x, G, init_lr):
        """One AdaGrad update of one parameter; returns (x, G).

            G <- G + g ⊙ g
            x <- x - init_lr / sqrt(G + epsilon) ⊙ g

        epsilon sits inside the square root (torch.optim.Adagrad adds it outside).
        """
        # BEGIN SOLUTION
        G = G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        # END SOLUTION

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.adagrad(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )


class RMSprop(Optimizer):
    """RMSprop: AdaGrad with an exponential moving average of g² instead of a sum."""

    def __init__(self, init_lr, model, beta, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        _check_range("beta", beta, low=0.0, high=1.0)
        _check_range("epsilon", epsilon, low=0.0)
        self.beta = beta
        self.epsilon = epsilon
        self.G = self._zero_state()

    def rmsprop(self, x, gradient_x, G, init_lr):
        """One RMSprop update of one parameter; returns (x, G).

            G <- beta * G + (1 - beta) * g ⊙ g
            x <- x - init_lr / sqrt(G + epsilon) ⊙ g
        """
        # BEGIN SOLUTION
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        # END SOLUTION

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.rmsprop(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )


class Momentum(Optimizer):
    """Momentum: the step is a decaying sum of past steps plus the new gradient step."""

    def __init__(self, init_lr, model, rho):
        super().__init__(init_lr=init_lr, model=model)
        _check_range("rho", rho, low=0.0, high=1.0)
        self.rho = rho
        self.delta_x = self._zero_state()

    def momentum(self, x, gradient_x, delta_x, init_lr):
        """One momentum update of one parameter; returns (x, delta_x).

            delta_x <- rho * delta_x - init_lr * g
            x <- x + delta_x
        """
        # BEGIN SOLUTION
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + delta_x
        return x, delta_x
        # END SOLUTION

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.delta_x[key] = self.momentum(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )


class Nesterov(Optimizer):
    """Nesterov accelerated gradient, in the form that needs the gradient at x only."""

    def __init__(self, init_lr, model, rho):
        super().__init__(init_lr=init_lr, model=model)
        _check_range("rho", rho, low=0.0, high=1.0)
        self.rho = rho
        self.delta_x = self._zero_state()

    def nesterov(self, x, gradient_x, delta_x, init_lr):
        """One Nesterov update of one parameter; returns (x, delta_x).

            delta_prev <- delta_x
            delta_x <- rho * delta_x - init_lr * g
            x <- x - rho * delta_prev + (1 + rho) * delta_x
        """
        # BEGIN SOLUTION
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x
        return x, delta_x
        # END SOLUTION

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.delta_x[key] = self.nesterov(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )


class Adam(Optimizer):
    """Adam: momentum on the gradient (M) and RMSprop on its square (G), both bias-corrected."""

    def __init__(self, init_lr, model, beta1, beta2, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        _check_range("beta1", beta1, low=0.0, high=1.0)
        _check_range("beta2", beta2, low=0.0, high=1.0)
        _check_range("epsilon", epsilon, low=0.0)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.G = self._zero_state()
        self.M = self._zero_state()
        self.t = 1

    def adam(self, x, gradient_x, G, M, t, init_lr):
        """One Adam update of one parameter at step t (t starts at 1); returns (x, G, M, t + 1).

            M <- beta1 * M + (1 - beta1) * g
            G <- beta2 * G + (1 - beta2) * g ⊙ g
            M_hat = M / (1 - beta1^t)
            G_hat = G / (1 - beta2^t)
            t <- t + 1
            x <- x - init_lr / sqrt(G_hat + epsilon) ⊙ M_hat
        """
        # BEGIN SOLUTION
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        # END SOLUTION

    def step(self):
        # Every key takes the same t, and t advances once per step(). (The book assigns the returned t
        # inside this loop, so with W and b it advanced twice per step and the keys used different t.)
        next_t = self.t
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], next_t = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr
            )
        self.t = next_t
