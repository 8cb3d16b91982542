"""Every run of the unit's experiments as data: which optimizer, which hyperparameters, how long."""

from dataclasses import dataclass, field

from ..functions import NarrowBowl, OptimizedFunction, Saddle, TiltedCubic
from ..optimizers import Adagrad, Adam, Momentum, Nesterov, RMSprop, SimpleBatchGD

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
