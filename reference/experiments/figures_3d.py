"""Experiment 3: all optimizers on one function, as moving trajectories over its surface.

Each comparison gives an animated GIF (written by matplotlib's Pillow writer) and a still PNG of the
last frame. A trajectory that leaves the drawn box or overflows to inf/nan is drawn up to where it
left, and its legend entry says at which step.
"""

import math

import numpy as np
import torch

from .drawing import COLORS, first_exit, grid, inside, new_figure, save_png
from .runs import comparison_trajectories

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
