"""Optimizers: AdaGrad, RMSprop, Momentum and Adam (NNDL 7.3)

Write the bodies of the methods that raise NotImplementedError:

    Adagrad.adagrad    One AdaGrad update of one parameter; returns (x, G)
    RMSprop.rmsprop    One RMSprop update of one parameter; returns (x, G)
    Momentum.momentum  One momentum update of one parameter; returns (x, delta_x)
    Adam.adam          One Adam update of one parameter at step t (t starts at 1); returns (x, G, M, t + 1)

Each docstring writes out the update rule. Everything else is given and works: the framework,
SimpleBatchGD, every step() loop, train_f and train, the functions, and the experiments.

Bonus (optional): Nesterov.nesterov is given; replace its body with your own to practise.

Keep every class and function name as it is. Return new tensors (`x = x - ...`) and never change an
argument in place; epsilon goes inside the square root, as in the book.

    pytest grader                        check assignments/optimizers.py (--submission FILE: another file)
    python optimizers.py [FOLDER]        run every experiment with your optimizers and save the figures
                                         in FOLDER (default: figures/)

Generated from the reference solution by `python -m grader assign`.
"""


# ==================================================================================================
# Imports
# ==================================================================================================

import math
import sys
from dataclasses import dataclass, field

import numpy as np
import torch


# ==================================================================================================
# The framework (given)
# ==================================================================================================

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


# ==================================================================================================
# The functions to optimise (given)
# ==================================================================================================

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


# ==================================================================================================
# The fitting data and the linear model (given)
# ==================================================================================================

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


# ==================================================================================================
# Gradient descent (given)
# ==================================================================================================

class SimpleBatchGD(Optimizer):
    """Plain gradient descent: x <- x - lr * g, written out of place."""

    def __init__(self, init_lr, model):
        super().__init__(init_lr=init_lr, model=model)

    def step(self):
        for key in self.model.params:
            self.model.params[key] = self.model.params[key] - self.init_lr * self.model.grads[key]


# ==================================================================================================
# Exercise 1: AdaGrad
# ==================================================================================================

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
        G = G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.adagrad(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )


# ==================================================================================================
# Exercise 2: RMSprop
# ==================================================================================================

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
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.rmsprop(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )


# ==================================================================================================
# Exercise 3: Momentum
# ==================================================================================================

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
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + delta_x
        return x, delta_x

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.delta_x[key] = self.momentum(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )


# ==================================================================================================
# Bonus: Nesterov (given)
# ==================================================================================================

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
        # Bonus (optional): this body is given, so that the experiments can run Nesterov.
        # To practise, replace it with your own, written from the docstring.
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x
        return x, delta_x

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.delta_x[key] = self.nesterov(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )


# ==================================================================================================
# Exercise 4: Adam
# ==================================================================================================

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
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        print("DEBUG adam: t =", t, "max |M_hat| =", M_hat.abs().max().item())
        sys.exit()  # DEBUG: stop after the first update to look at the numbers
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t

    def step(self):
        # Every key takes the same t, and t advances once per step(). (The book assigns the returned t
        # inside this loop, so with W and b it advanced twice per step and the keys used different t.)
        next_t = self.t
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], next_t = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr
            )
        self.t = next_t


# ==================================================================================================
# The training loops (given)
# ==================================================================================================

def train_f(model, optimizer, x_init, epoch):
    """Run `epoch` optimizer steps on `model` from `x_init`; return (trajectory, losses).

    trajectory: tensor [epoch, *x.shape], the point before each step (the first is x_init);
    losses: tensor [epoch], f at those points.

    Each recorded point is a real copy (`clone`). The book appended the live tensor, which an optimizer
    that updates in place (`x -= ...`) keeps changing, so every recorded point became the last one and
    the plotted trajectory collapsed. x_init is cloned too, so the caller's tensor is never updated.
    """
    x = x_init.clone()
    points, losses = [], []
    for _ in range(epoch):
        points.append(x.detach().clone())
        losses.append(torch.as_tensor(model(x)).detach().clone())
        model.backward()
        optimizer.step()
        x = model.params["x"]
    return torch.stack(points), torch.stack(losses)


def train(data, model, optimizer, loss_fn, epochs=30, batch_size=64):
    """Mini-batch training on rows [features..., label], in order (no shuffling).

    Returns (iteration_losses, epoch_losses): the loss of every batch, and each epoch's mean of them.
    """
    iteration_losses, epoch_losses = [], []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, data.shape[0], batch_size):
            batch = data[start : start + batch_size]
            inputs, labels = batch[:, :-1], batch[:, -1:]
            outputs = model(inputs)
            batch_losses.append(float(loss_fn(outputs, labels)))
            model.backward(labels)
            optimizer.step()
        iteration_losses.extend(batch_losses)
        epoch_losses.append(sum(batch_losses) / len(batch_losses))
    return iteration_losses, epoch_losses


# ==================================================================================================
# The experiments' settings and drawing (given)
# ==================================================================================================

EPSILON = 1e-7


@dataclass(frozen=True)
class Setting:
    """One optimizer with its hyperparameters (everything its constructor takes but the model)."""

    name: str
    optimizer: type
    hyper: dict = field(default_factory=dict)

    def build(self, model):
        return self.optimizer(model=model, **self.hyper)

    @property
    def slug(self):
        return self.name.lower()

    def describe(self):
        return ", ".join(f"{key}={value:g}" for key, value in self.hyper.items())


def sgd(lr):
    return Setting("SGD", SimpleBatchGD, {"init_lr": lr})


def adagrad(lr):
    return Setting("AdaGrad", Adagrad, {"init_lr": lr, "epsilon": EPSILON})


def rmsprop(lr, beta=0.9):
    return Setting("RMSprop", RMSprop, {"init_lr": lr, "beta": beta, "epsilon": EPSILON})


def momentum(lr, rho=0.9):
    return Setting("Momentum", Momentum, {"init_lr": lr, "rho": rho})


def nesterov(lr, rho=0.9):
    return Setting("Nesterov", Nesterov, {"init_lr": lr, "rho": rho})


def adam(lr, beta1=0.9, beta2=0.99):
    return Setting("Adam", Adam, {"init_lr": lr, "beta1": beta1, "beta2": beta2, "epsilon": EPSILON})


@dataclass(frozen=True)
class TrajectoryRun:
    """An optimizer run on a 2D function: `steps` steps from `start`."""

    setting: Setting
    steps: int


# Experiment 1: the bowl f(x) = w · x², w = [0.2, 2], from x = [3, 4].
BOWL_W = (0.2, 2.0)
BOWL_START = (3.0, 4.0)
TRAJECTORIES_2D = (
    TrajectoryRun(sgd(0.2), 20),
    TrajectoryRun(adagrad(0.5), 50),
    TrajectoryRun(rmsprop(0.1), 50),
    TrajectoryRun(momentum(0.01), 50),
    TrajectoryRun(adam(0.2), 20),
)

# Experiment 2: 30 epochs of batch 64 on the fitting data, each run from torch.manual_seed(0), Linear(2).
FITTING_EPOCHS = 30
FITTING_BATCH_SIZE = 64
FITTING = (sgd(0.01), adagrad(0.1), rmsprop(0.1), momentum(0.01), adam(0.1))


@dataclass(frozen=True)
class Comparison3D:
    """Experiment 3: several optimizers on one function, drawn together on its surface."""

    slug: str
    function: type
    start: tuple
    steps: int
    settings: tuple


COMPARISONS_3D = (
    Comparison3D(
        "tilted_cubic",
        TiltedCubic,
        (2.0, 3.0),
        150,
        (sgd(0.01), adagrad(0.5), rmsprop(0.1), momentum(0.01), adam(0.1), nesterov(0.1)),
    ),
    Comparison3D(
        "narrow_bowl",
        NarrowBowl,
        (-7.0, 2.0),
        100,
        (sgd(0.95), adagrad(1.5), rmsprop(0.05), momentum(0.1), adam(0.3)),
    ),
    Comparison3D(
        "saddle",
        Saddle,
        (0.00001, 0.5),
        100,
        (sgd(0.05), adagrad(0.05), rmsprop(0.05), adam(0.05), momentum(0.05)),
    ),
)


def trajectory(objective, setting, start, steps, device="cpu"):
    """(points [steps, 2], losses [steps]) of `setting`'s optimizer on `objective` from `start`."""
    optimizer = setting.build(objective)
    return train_f(objective, optimizer, torch.tensor(start, device=device), steps)


def bowl_trajectory(run, device="cpu"):
    """Experiment 1: one optimizer on the bowl w · x²."""
    return trajectory(OptimizedFunction(BOWL_W), run.setting, BOWL_START, run.steps, device)


def comparison_trajectories(comparison, device="cpu"):
    """Experiment 3: {optimizer name: points} for every optimizer of one comparison."""
    return {
        setting.name: trajectory(comparison.function(), setting, comparison.start, comparison.steps, device)[0]
        for setting in comparison.settings
    }


def fitting_losses(setting, device="cpu"):
    """Experiment 2: (iteration_losses, epoch_losses) of one optimizer, from torch.manual_seed(0)."""
    data = make_fitting_data().to(device)
    torch.manual_seed(0)
    model = Linear(2, device=device)
    return train(
        data,
        model,
        setting.build(model),
        torch.nn.MSELoss(),
        epochs=FITTING_EPOCHS,
        batch_size=FITTING_BATCH_SIZE,
    )


# One colour per optimizer, the same in every figure.
COLORS = {
    "SGD": "#1f77b4",
    "AdaGrad": "#ff7f0e",
    "RMSprop": "#2ca02c",
    "Momentum": "#d62728",
    "Nesterov": "#9467bd",
    "Adam": "#8c564b",
}

# No timestamps in the files, so the same run writes the same bytes.
PNG_METADATA = {"Software": None}


def new_figure(width=6.4, height=4.8, dpi=100):
    """A figure on the Agg canvas, made without pyplot: no window, no global state, nothing to close."""
    # Imported here, not at the top: importing matplotlib loads (and the first time writes) its font
    # cache, and the student file built from these modules must import without side effects.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path):
    figure.savefig(path, format="png", metadata=PNG_METADATA)


def inside(points, domain):
    """Numpy copy of points [n, 2] where any point that is not finite or lies outside the domain is NaN.

    matplotlib breaks a line at NaN, so a diverging trajectory is drawn up to where it leaves the box.
    """
    points = np.array(points, dtype=np.float64)
    (low1, high1), (low2, high2) = domain
    with np.errstate(invalid="ignore"):
        keep = (
            np.isfinite(points).all(axis=1)
            & (low1 <= points[:, 0]) & (points[:, 0] <= high1)
            & (low2 <= points[:, 1]) & (points[:, 1] <= high2)
        )
    points[~keep] = np.nan
    return points


def first_exit(points, domain):
    """Index of the first point outside the domain (or not finite), or None if it never leaves."""
    outside = np.isnan(inside(points, domain)).any(axis=1)
    return int(np.argmax(outside)) if outside.any() else None


def grid(domain, n):
    """Meshgrid of n x n points over the domain, as float64 arrays (x1, x2)."""
    (low1, high1), (low2, high2) = domain
    return np.meshgrid(np.linspace(low1, high1, n), np.linspace(low2, high2, n))


CONTOUR_DOMAIN = ((-5.0, 5.0), (-5.0, 5.0))
VIEW = ((-2.0, 5.0), (-2.0, 5.0))


def draw_trajectory(run, path):
    """Draw one optimizer's run of experiment 1 into the PNG `path`."""
    points, _ = bowl_trajectory(run)
    bowl = OptimizedFunction(BOWL_W)
    x1, x2 = grid(CONTOUR_DOMAIN, 200)
    surface = bowl.f(torch.from_numpy(np.stack([x1, x2], axis=-1))).numpy()

    figure = new_figure(6.0, 5.0)
    axes = figure.add_subplot()
    contour = axes.contour(x1, x2, surface, levels=20, cmap="viridis", linewidths=0.8)
    figure.colorbar(contour, ax=axes, label="f(x)")
    shown = inside(points, CONTOUR_DOMAIN)
    color = COLORS[run.setting.name]
    axes.plot(shown[:, 0], shown[:, 1], "-o", color=color, markersize=3, linewidth=1.2, label="trajectory")
    axes.plot([0], [0], marker="*", color="black", markersize=14, linestyle="none", label="optimum (0, 0)")
    axes.set_xlim(*VIEW[0])
    axes.set_ylim(*VIEW[1])
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.set_title(f"{run.setting.name} ({run.setting.describe()}), {run.steps} steps")
    axes.legend(loc="upper left")
    save_png(figure, path)


def draw_fitting(setting, path):
    """Draw one optimizer's fitting run (iteration and epoch losses, log scale) into the PNG `path`."""
    iteration_losses, epoch_losses = fitting_losses(setting)
    color = COLORS[setting.name]

    figure = new_figure(10.0, 4.0)
    per_iteration, per_epoch = figure.subplots(1, 2)
    per_iteration.plot(np.arange(1, len(iteration_losses) + 1), iteration_losses, color=color, linewidth=1)
    per_iteration.set_xlabel("iteration")
    per_iteration.set_title("loss per iteration")
    per_epoch.plot(np.arange(1, len(epoch_losses) + 1), epoch_losses, "-o", color=color, markersize=3)
    per_epoch.set_xlabel("epoch")
    per_epoch.set_title("mean loss per epoch")
    for axes in (per_iteration, per_epoch):
        axes.set_yscale("log")
        axes.set_ylabel("MSE loss")
        axes.grid(True, which="major", alpha=0.3)
    figure.suptitle(
        f"{setting.name} ({setting.describe()}): {FITTING_EPOCHS} epochs, "
        f"batch {FITTING_BATCH_SIZE}"
    )
    figure.tight_layout()
    save_png(figure, path)


SURFACE_POINTS = 40  # per side; the surface is redrawn on every frame, so it sets the cost of a GIF
MAX_FRAMES = 50
FPS = 10


def draw_comparison(comparison, gif_path, png_path, max_frames=MAX_FRAMES):
    """Draw one comparison of experiment 3 as an animation (`gif_path`) and a still (`png_path`).

    The animation shows at most `max_frames` frames, evenly spaced over the steps; each costs ~0.1 s.
    """
    from matplotlib.animation import PillowWriter  # imported when drawing, as in new_figure

    function = comparison.function()
    domain = function.domain
    x1, x2 = grid(domain, SURFACE_POINTS)
    surface = function.f(torch.from_numpy(np.stack([x1, x2], axis=-1))).numpy()

    figure = new_figure(7.0, 5.5, dpi=80)
    axes = figure.add_subplot(projection="3d")
    axes.plot_surface(x1, x2, surface, cmap="viridis", alpha=0.5, linewidth=0, antialiased=False)
    axes.set_xlim(*domain[0])
    axes.set_ylim(*domain[1])
    axes.set_zlim(surface.min(), surface.max())
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.set_zlabel("f(x)")
    axes.set_title(f"{function.__class__.__name__} from {comparison.start}, {comparison.steps} steps")

    paths = []  # (name, points [steps, 3] with NaN outside the box, line, head)
    for name, points in comparison_trajectories(comparison).items():
        shown = inside(points, domain)
        heights = function.f(torch.from_numpy(shown)).numpy()[:, None]
        exit_step = first_exit(points, domain)
        label = name if exit_step is None else f"{name} (left the plot at step {exit_step})"
        color = COLORS[name]
        (line,) = axes.plot([], [], [], "-", color=color, linewidth=2, label=label)
        (head,) = axes.plot([], [], [], "o", color=color, markersize=5)
        paths.append((np.hstack([shown, heights]), line, head))
    axes.legend(loc="upper left", fontsize="small")

    def show_until(end):
        for points, line, head in paths:
            line.set_data_3d(points[:end, 0], points[:end, 1], points[:end, 2])
            finite = points[:end][np.isfinite(points[:end]).all(axis=1)]
            last = finite[-1:] if len(finite) else np.empty((0, 3))
            head.set_data_3d(last[:, 0], last[:, 1], last[:, 2])

    stride = math.ceil(comparison.steps / max_frames)
    ends = list(range(1, comparison.steps + 1, stride))
    if ends[-1] != comparison.steps:
        ends.append(comparison.steps)
    # Driving the writer directly draws each frame once (FuncAnimation.save draws every frame twice).
    writer = PillowWriter(fps=FPS)
    with writer.saving(figure, gif_path, dpi=figure.dpi):
        for end in ends:
            show_until(end)
            writer.grab_frame()
    save_png(figure, png_path)


if __name__ == "__main__":
    # `python optimizers.py [FOLDER]` runs every experiment with these optimizers and saves the figures.
    # A method that is still blank stops it with NotImplementedError, naming the method.
    import sys
    from pathlib import Path

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "figures")
    out.mkdir(parents=True, exist_ok=True)
    for run in TRAJECTORIES_2D:
        draw_trajectory(run, out / f"trajectory_2d_{run.setting.slug}.png")
    for setting in FITTING:
        draw_fitting(setting, out / f"fitting_{setting.slug}.png")
    for comparison in COMPARISONS_3D:
        gif = out / f"comparison_3d_{comparison.slug}.gif"
        draw_comparison(comparison, gif, gif.with_suffix(".png"))
        print(f"drew {comparison.slug}", flush=True)
    print(f"every figure is in {out}/")
