"""Experiment 1: each optimizer's trajectory on the bowl f(x) = w · x², over its contour lines."""

import numpy as np
import torch

from ..functions import OptimizedFunction
from .drawing import COLORS, grid, inside, new_figure, save_png
from .runs import bowl_trajectory
from .settings import BOWL_W

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
