"""Writing the student bundle (see the package docstring)."""

import json
import shutil
import zipfile
from pathlib import Path

from .. import defaults

SELFCHECK = Path(__file__).with_name("selfcheck")
#: Kit file -> bundle file: the test module is named so only in the bundle (pytest grader must not collect it).
SELFCHECK_FILES = {"__init__.py": "__init__.py", "wire.py": "wire.py", "source.py": "source.py",
                   "worker.py": "worker.py", "runner.py": "runner.py", "judge.py": "judge.py",
                   "plugin.py": "plugin.py", "batch.py": "batch.py", "per_part.py": "test_parts.py"}
CONFTEST = '''"""Makes `pytest selfcheck` the self-check: the hooks live in plugin.py."""

from .plugin import pytest_addoption, pytest_configure, pytest_generate_tests, pytest_report_header, \\
    pytest_terminal_summary  # noqa: F401 -- pytest finds hooks by name here
'''
REQUIREMENTS = "# What the self-check needs (Jupyter, for the notebook, is up to you).\ntorch>=2.1\nnumpy\npytest>=7\n"
# Makes the bundle's folder pytest's root when the self-check is run from it, so that a pytest
# configuration in a folder above (a course's pyproject.toml) does not change how it runs.
PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"
NAME = "optimizers-assignment"


class ReleaseError(Exception):
    pass


def build_release(out, make_zip=False, seed=None):
    """Write the bundle into the folder `out` (made empty first if it only holds an earlier bundle);
    with make_zip also `out` + ".zip". Returns the paths written."""
    from ..assignment import build_assignment
    from .cases import RELEASE_SEED, build_cases
    from .readme import README
    from .separation import check_separation

    seed = RELEASE_SEED if seed is None else seed
    if seed == defaults.SEED:
        raise ReleaseError(f"the release seed must differ from grading's ({defaults.SEED}): the public cases "
                           "would be the graded ones")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "selfcheck" / "cases.json").exists():
        raise ReleaseError(f"{out} exists and is not an earlier bundle: choose an empty or new folder")
    parts = build_cases(seed)
    check_separation(parts)
    stubs = build_assignment(files=("optimizers.py", "optimizers.ipynb"))
    files = {
        "optimizers.py": _script(stubs["optimizers.py"]),
        "optimizers.ipynb": _notebook(stubs["optimizers.ipynb"]),
        "README.md": README,
        "requirements.txt": REQUIREMENTS,
        "pytest.ini": PYTEST_INI,
        "selfcheck/conftest.py": CONFTEST,
        "selfcheck/rubric.json": json.dumps(_rubric(), indent=1),
        "selfcheck/cases.json": json.dumps({"release_seed": seed, "parts": parts}, separators=(",", ":")),
    }
    for source, target in SELFCHECK_FILES.items():
        files[f"selfcheck/{target}"] = (SELFCHECK / source).read_text(encoding="utf-8")
    from .scan import scan_files

    findings = scan_files({name: text.encode("utf-8") for name, text in files.items()})
    if findings:  # never write a bundle that gives an answer away
        raise ReleaseError("the bundle would hold a solution: " + "; ".join(findings))
    if out.exists():
        shutil.rmtree(out)
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    if make_zip:
        archive = out.with_name(out.name + ".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, text in sorted(files.items()):
                bundle.writestr(f"{NAME}/{name}", text)
        written.append(archive)
    return written


def _rubric():
    """Every rubric item with its points; x_init_untouched as advice, Nesterov as the opt-in bonus."""
    from .. import rubric

    chosen = rubric.load(defaults.RUBRIC, enable=("nesterov",))
    items = [{"part": t.part, "test": t.test, "title": t.title, "points": t.points, "graded": True,
              "bonus": t.part == "nesterov"} for t in chosen.tests]
    items += [{"part": t.part, "test": t.test, "title": t.title, "points": 0, "graded": False, "bonus": False}
              for t in chosen.advice]
    order = list(dict.fromkeys(item["part"] for item in items))
    return sorted(items, key=lambda item: order.index(item["part"]))


def _script(text):
    return text.replace(
        "    pytest grader                        check assignments/optimizers.py (--submission FILE: another file)",
        "    pytest selfcheck                     check optimizers.py (--submission FILE: another file)")


SELF_CHECK_CELL = '''# Self-check: checks the notebook file AS SAVED ON DISK, not what this kernel has defined.
# Save first (Ctrl+S, or File > Save), then run this cell. It runs the same checks as
# `pytest selfcheck --submission optimizers.ipynb` in a terminal.
if __name__ == "__main__":
    import os
    import subprocess
    import sys

    if not (os.path.isdir("selfcheck") and os.path.isfile("optimizers.ipynb")):
        print("Start Jupyter in the assignment's folder (the one holding selfcheck/ and optimizers.ipynb).")
    else:
        _check = subprocess.run([sys.executable, "-m", "pytest", "selfcheck", "--submission", "optimizers.ipynb",
                                 "-q", "-p", "no:cacheprovider"], capture_output=True, text=True)
        print(_check.stdout[-20000:], _check.stderr[-5000:])
'''

CHECK_MARKDOWN = """## Check your work

Run the cell below **after saving the notebook** (Ctrl+S): it checks `optimizers.ipynb` as it is saved
on disk, not the definitions in this kernel, so unsaved edits are not seen. Each part (AdaGrad, RMSprop,
Momentum, Adam, and the trajectory of `train_f`) gets one test per rubric item; a failing test shows the
input, what was expected, what your code returned, and which classic mistake it matches. The points at
the end are those of the public cases; grading uses more cases, drawn differently (see README.md).

From a terminal in this folder, the same: `pytest selfcheck --submission optimizers.ipynb`."""


def _notebook(text):
    notebook = json.loads(text)
    cells = notebook["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    checks = [index for index, cell in enumerate(cells)
              if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("## Check your work")]
    markdown = {"cell_type": "markdown", "id": "self-check-text", "metadata": {}, "source": CHECK_MARKDOWN.splitlines(keepends=True)}
    code = {"cell_type": "code", "execution_count": None, "id": "self-check", "metadata": {}, "outputs": [],
            "source": SELF_CHECK_CELL.splitlines(keepends=True)}
    if checks:
        cells[checks[0]] = markdown
        cells.insert(checks[0] + 1, code)
    else:
        cells += [markdown, code]
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
