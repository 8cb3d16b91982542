"""Generating what students receive from the reference, so that stub and solution never drift apart.

`python -m grader assign [--out DIR]` writes `optimizers.py` (one self-contained module) and
`optimizers.ipynb` (the same code with the explanations and the experiments), with the body of every
exercise between `# BEGIN SOLUTION` and `# END SOLUTION` in the reference replaced by a
`raise NotImplementedError` naming it; `--solution` keeps the bodies (default folder: solutions/).

The generator is a pipeline of small steps (`pipeline.STUB_STEPS`), one concept per module:
`source` reads the reference modules the `outline` lists, `top_level` and `imports` make sure they join
into one file, `markers` finds the solution regions, `exercises` checks that every exercise has one,
`clear_solutions` (or `keep_solutions`) rewrites them, `docstrings` puts the docstrings and comments in
the language the process speaks (`assign --lang`), `arrange` places the code into the outline's
sections; `script` and `notebook` render the two files, their prose (`narrative`) translated too.
"""

from .errors import AssignmentError
from .exercises import BONUS, EXERCISES
from .markers import BEGIN, END, regions_of
from .pipeline import build_assignment, write_assignments
from .source import read_module

__all__ = [
    "BEGIN",
    "BONUS",
    "END",
    "EXERCISES",
    "AssignmentError",
    "build_assignment",
    "read_module",
    "regions_of",
    "write_assignments",
]
