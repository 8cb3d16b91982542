"""What the student bundle holds of the kit: the self-check's files and the grader's modules copied into it
(trusted side; read by bundle.py, which writes them, and by scan.py, which tells them from the kit's own)."""

from pathlib import Path

SELFCHECK = Path(__file__).with_name("selfcheck")
#: The self-check's folder in the bundle: students type `pytest grader` there, the same words as in the project.
FOLDER = "grader"
#: Kit file -> bundle file: the test module is named so only in the bundle (pytest grader must not collect it).
SELFCHECK_FILES = {
    "__init__.py": "__init__.py",
    "wire.py": "wire.py",
    "worker.py": "worker.py",
    "runner.py": "runner.py",
    "judge.py": "judge.py",
    "values.py": "values.py",
    "edit_lookup.py": "edit_lookup.py",
    "plugin.py": "plugin.py",
    "batch.py": "batch.py",
    "per_part.py": "test_parts.py",
}
#: The grader's own modules the self-check runs, copied unchanged (tests/test_release.py holds that they are):
#: a submission is read, its top level runs, its classes are called, and what they return is judged,
#: exactly as when it is graded. (In the kit, shims of the same names in selfcheck/ stand in for the four
#: judging modules, as selfcheck/i18n.py does for the language module.)
SHARED_FILES = {
    "inputs/submission.py": "submission.py",
    "inputs/regular_files.py": "regular_files.py",
    "inputs/notebook.py": "notebook.py",
    "untrusted/loader.py": "loader.py",
    "untrusted/precompiled.py": "precompiled.py",
    "untrusted/operations.py": "operations.py",
    "judge/closeness.py": "closeness.py",
    "judge/trajectory_verdict.py": "trajectory_verdict.py",
    "judge/step_verdicts.py": "step_verdicts.py",
    "judge/labels.py": "labels.py",
}
SELFCHECK_DATA = ("conftest.py", "rubric.json", "cases.json", "language.json")  # written by build_release itself
#: The kit's language module, shipped verbatim (it is standard library only) as the bundle's package
#: grader/i18n/, which the self-check's modules import as `from .i18n import _` (in the kit, the shim
#: selfcheck/i18n.py stands in for it). tests/test_release.py holds that the copy is byte for byte.
I18N_SOURCE = "i18n/__init__.py"
I18N_TARGET = "i18n/__init__.py"
#: The catalogs the self-check's messages are in (its own, and the grader's for the shared modules'):
#: a release in another language than English ships these compiled (.mo) beside the module, and only these.
I18N_DOMAINS = ("release", "verdicts")
