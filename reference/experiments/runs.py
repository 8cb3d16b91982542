"""The experiments' computations, without any drawing: what the figures show and the tests check."""

import torch

from ..functions import OptimizedFunction
from ..linear import Linear, make_fitting_data
from ..training import train, train_f
from .settings import BOWL_START, BOWL_W, FITTING_BATCH_SIZE, FITTING_EPOCHS


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
