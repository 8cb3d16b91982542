"""Experiment 4: a table of how closely each optimizer follows its torch.optim counterpart."""

import torch

from .. import torch_check
from . import settings

STEPS = 200
SHAPES = {"W": (3, 2), "b": (2,), "s": ()}  # several keys of different shapes, a 0-d one too

# The fitting runs' hyperparameters; RMSprop and Adam with epsilon 0, the only value torch.optim matches.
RUNS = (
    settings.sgd(0.01),
    settings.adagrad(0.1),
    settings.Setting("RMSprop", settings.RMSprop, {"init_lr": 0.1, "beta": 0.9, "epsilon": 0.0}),
    settings.momentum(0.01),
    settings.nesterov(0.01),
    settings.Setting("Adam", settings.Adam, {"init_lr": 0.1, "beta1": 0.9, "beta2": 0.99, "epsilon": 0.0}),
)


def report(seed=0):
    """The table as text: one row per optimizer, its worst disagreement (<= 1 agrees) over STEPS steps."""
    generator = torch.Generator().manual_seed(seed)
    params = {key: torch.randn(shape, generator=generator) for key, shape in SHAPES.items()}
    # Nonzero gradients: with epsilon 0 a zero gradient is 0/0 in the book and in torch.
    gradients = [
        {key: torch.randn(shape, generator=generator).add_(0.1) for key, shape in SHAPES.items()}
        for _ in range(STEPS)
    ]
    lines = [
        f"Framework optimizers against torch.optim: {STEPS} steps, open loop, float32, keys "
        + ", ".join(f"{key}{list(shape)}" for key, shape in SHAPES.items()),
        "worst = max |ours - torch| / (8·k·u · (|torch| + S_k)); agreement means worst <= 1",
        "",
        f"{'optimizer':<10} {'hyperparameters':<50} {'worst':>8}  verdict",
    ]
    for setting in RUNS:
        ours, theirs = torch_check.run_side_by_side(setting.build, params, gradients)
        worst = torch_check.worst_disagreement(ours, theirs)
        verdict = "agrees" if worst <= 1 else "DISAGREES"
        lines.append(f"{setting.name:<10} {setting.describe():<50} {worst:8.3f}  {verdict}")
    return "\n".join(lines) + "\n"
