"""The optimkit grader: grades a student's optimizers against the reference without trusting them.

Student code only ever runs in a separate worker process (`grader.untrusted`, loaded by a sandboxed worker process); this package's trusted side
owns the reference, the property tests, the comparisons, the rubric and every file written.
"""

# Both are loaded by the interpreter before any code runs: importing them reads nothing from the current folder.
import os
import sys


def _forget_the_current_folder():
    """Take the current folder off sys.path when this package is being started by `python -m grader`.

    `python -m` puts the folder it was started in first on sys.path. A teacher who grades from inside
    a folder of student files would then import a student's `json.py`, `numpy.py` or `torch.py` into
    the trusted process instead of the real module, with the grader's rights. This runs before any
    other import of the package, so nothing has been imported from there yet (only the package itself:
    a folder holding its own `grader/` would replace this very code, which no code here can prevent;
    the `optimkit` command never puts the current folder on sys.path, and is the documented way).

    `sys.argv[0]` is "-m" only while `python -m` is importing the package it runs (Python's documented
    behaviour); a test run or a program that imports the grader keeps its sys.path. The folder that
    holds this very package stays: it is the grader's own, already trusted (a source checkout).
    """
    if getattr(sys, "argv", [])[:1] != ["-m"]:  # an embedded interpreter may have no argv
        return
    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # the current folder was deleted: only "" can still name it
        here = None
    own = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [
        entry for entry in sys.path if entry != "" and (here is None or here == own or os.path.realpath(entry) != here)
    ]


_forget_the_current_folder()

__version__ = "0.1.0"
__all__ = ["__version__"]
