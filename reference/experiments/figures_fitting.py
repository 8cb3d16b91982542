"""Experiment 2: each optimizer's loss per iteration and per epoch on the linear fitting data."""

import numpy as np

from .drawing import COLORS, new_figure, save_png
from .runs import fitting_losses
from .settings import FITTING_BATCH_SIZE, FITTING_EPOCHS


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
