"""The optimkit grader: grades a student's optimizers against the reference without trusting them.

Student code only ever runs in a separate worker process (`grader.untrusted`, loaded by a sandboxed worker process); this package's trusted side
owns the reference, the property tests, the comparisons, the rubric and every file written.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
