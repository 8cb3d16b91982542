"""The reference solution of the optimizer unit (NNDL section 7.3), correct where the book is not.

`from reference import ...` gives the book's framework, every optimizer with the book's constructor and
per-key method, the functions of the experiments, and the two training loops. `reference.rules` holds
each update rule as a pure function; `reference.torch_check` maps each optimizer to its torch.optim
counterpart; `python -m reference.experiments --out DIR` draws every figure of the unit.
"""

from .framework import Op, Optimizer
from .functions import NarrowBowl, Objective, OptimizedFunction, Saddle, TiltedCubic
from .linear import Linear, make_fitting_data
from .optimizers import Adagrad, Adam, Momentum, Nesterov, RMSprop, SimpleBatchGD
from .training import train, train_f

__all__ = [
    "Op",
    "Optimizer",
    "SimpleBatchGD",
    "Adagrad",
    "RMSprop",
    "Momentum",
    "Nesterov",
    "Adam",
    "Objective",
    "OptimizedFunction",
    "TiltedCubic",
    "NarrowBowl",
    "Saddle",
    "Linear",
    "make_fitting_data",
    "train_f",
    "train",
]
