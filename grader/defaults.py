"""Defaults shared by the command line, the pytest plugin and the grading code (standard library only,
so that reading them never imports torch before the worker has started)."""

from pathlib import Path

SEED = 20261121  # hypothesis seed: the same submission gets the same examples, hence the same score
RUBRIC = Path(__file__).parent / "judge" / "rubric.json"
SUBMISSION = Path("assignments") / "optimizers.py"  # what `pytest grader` checks without --submission
BUDGET = 120.0  # seconds of wall-clock time per submission, in check and batch; each call also stops after 5 s
LONGEST_BUDGET = 86400.0  # a day: no submission needs more, and a larger (or infinite) budget disarms the deadlines
