"""Feedback people look at: a self-contained HTML page per student (with plots of their own optimizers
beside the reference's) and the class report as a page. See page.py, runs.py, plots.py, class_page.py."""

import sys

FOLDER = "feedback"  # OUT/feedback/<student>.html


class PlotRuns:
    """The `after` hook of grading.grade: runs the plots' numbers in the submission's sandbox, keeps them.

    Whatever goes wrong here costs the plots only: the grade is already decided.
    """

    def __init__(self, parts):
        self.parts, self.runs = tuple(parts), {}

    def __call__(self, sandbox):
        from . import runs  # noqa: PLC0415 -- torch, numpy: only to draw (batch imports this package before its zygote)

        try:
            self.runs = runs.collect(sandbox, self.parts)
        except Exception as error:  # noqa: BLE001 -- a bug of ours, or data we did not foresee: no plots
            print(f"feedback: the plots could not be run: {type(error).__name__}: {error}", file=sys.stderr)
            self.runs = {}


def warm(parts):
    """Compute once, before the lanes fork, what every page shares: the bowl's contour lines and the
    reference's runs (each lane would otherwise pay for them, and for importing what they need)."""
    from . import page, plots, runs  # noqa: F401, PLC0415 -- here so that the lanes inherit them (torch, numpy)

    plots.defs()
    for part in parts:
        if part == "trajectory" or part in runs.BOWL_RUNS:
            runs.reference_points(part)


def write_page(folder, student, result, runs=None):
    """Write one student's page; a failure is said on stderr and costs that page only (never the grade)."""
    from . import page  # noqa: PLC0415 -- torch, numpy: only to draw (batch imports this package before its zygote)

    try:
        return page.write(folder, student, result, runs)
    except Exception as error:  # noqa: BLE001
        print(f"feedback: no page for {student}: {type(error).__name__}: {error}", file=sys.stderr)
        return None
