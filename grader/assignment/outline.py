"""The assignment's outline, as data: its sections in order, and the cells each one holds.

The student file and the notebook are both rendered from this one outline: the `.py` takes each
section's code (under a banner with its title), the notebook takes its title and text as a markdown
cell and then its code cells. Reference modules are listed in dependency order, since the student file
runs top to bottom; `arrange` checks that every top-level definition of a listed module is placed
exactly once, and before anything that imports it.
"""

from dataclasses import dataclass

from grader.i18n import N_

from . import experiment_cells as cells
from . import narrative


@dataclass(frozen=True)
class Reference:
    """A code cell of reference blocks: all of `module`'s top-level definitions, or only those in `names`."""

    module: str  #: path inside the reference package without ".py", e.g. "experiments/runs"
    names: tuple = ()


@dataclass(frozen=True)
class Imports:
    """The code cell with the merged imports of every reference module."""


@dataclass(frozen=True)
class NotebookOnly:
    """A code cell that only the notebook has (the experiments, run and shown inline)."""

    source: str


@dataclass(frozen=True)
class ScriptOnly:
    """Code that only the student file has (its `__main__` block)."""

    source: str


@dataclass(frozen=True)
class Section:
    """A titled part of the assignment: a markdown cell (title and text), then its code cells."""

    slug: str  #: names the notebook cells' ids
    title: str  #: marked N_, translated where it is placed (`arrange`)
    text: str  #: one of narrative.py's texts, translated there too
    cells: tuple = ()


OUTLINE = (
    Section("imports", N_("Imports"), narrative.IMPORTS, (Imports(),)),
    Section("framework", N_("The framework (given)"), narrative.FRAMEWORK, (Reference("framework"),)),
    Section("functions", N_("The functions to optimise (given)"), narrative.FUNCTIONS, (Reference("functions"),)),
    Section("linear", N_("The fitting data and the linear model (given)"), narrative.LINEAR, (Reference("linear"),)),
    Section("sgd", N_("Gradient descent (given)"), narrative.SGD, (Reference("optimizers", ("SimpleBatchGD",)),)),
    Section("adagrad", N_("Exercise 1: AdaGrad"), narrative.ADAGRAD, (Reference("optimizers", ("Adagrad",)),)),
    Section("rmsprop", N_("Exercise 2: RMSprop"), narrative.RMSPROP, (Reference("optimizers", ("RMSprop",)),)),
    Section("momentum", N_("Exercise 3: Momentum"), narrative.MOMENTUM, (Reference("optimizers", ("Momentum",)),)),
    Section("nesterov", N_("Bonus: Nesterov (given)"), narrative.NESTEROV, (Reference("optimizers", ("Nesterov",)),)),
    Section("adam", N_("Exercise 4: Adam"), narrative.ADAM, (Reference("optimizers", ("Adam",)),)),
    Section("training", N_("The training loops (given)"), narrative.TRAINING, (Reference("training"),)),
    Section(
        "experiment-code",
        N_("The experiments' settings and drawing (given)"),
        narrative.EXPERIMENT_CODE,
        (
            Reference("experiments/settings"),
            Reference("experiments/runs"),
            Reference("experiments/drawing"),
            Reference("experiments/figures_2d"),
            Reference("experiments/figures_fitting"),
            Reference("experiments/figures_3d"),
            NotebookOnly(cells.SHOW),
            ScriptOnly(cells.SCRIPT_MAIN),
        ),
    ),
    Section(
        "trajectories",
        N_("Experiment 1: trajectories on a bowl"),
        narrative.TRAJECTORIES,
        (NotebookOnly(cells.TRAJECTORIES),),
    ),
    Section("fitting", N_("Experiment 2: fitting a line"), narrative.FITTING, (NotebookOnly(cells.FITTING),)),
    Section(
        "comparisons",
        N_("Experiment 3: all optimizers in 3D"),
        narrative.COMPARISONS,
        (NotebookOnly(cells.COMPARISONS),),
    ),
    Section("self-check", N_("Check your work"), narrative.SELF_CHECK),
)


def reference_modules(outline=OUTLINE) -> tuple:
    """The reference modules the outline uses, in the order they first appear."""
    found = []
    for section in outline:
        for cell in section.cells:
            if isinstance(cell, Reference) and cell.module not in found:
                found.append(cell.module)
    return tuple(found)
