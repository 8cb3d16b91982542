"""Writing the student bundle (see the package docstring)."""

import json
import re
import shutil
import zipfile
from pathlib import Path

from grader import i18n
from grader.errors import OptimkitError
from grader.i18n import N_, _
from grader.judge import rubric

from .. import defaults
from ..assignment import build_assignment
from .cases import RELEASE_SEED, build_cases
from .contents import FOLDER, I18N_DOMAINS, I18N_SOURCE, I18N_TARGET, SELFCHECK, SELFCHECK_FILES, SHARED_FILES
from .readme import readme
from .scan import scan_files
from .separation import inseparable

CONFTEST = '''"""Makes `pytest grader` the self-check: the hooks live in plugin.py."""

from .plugin import pytest_addoption, pytest_configure, pytest_generate_tests, pytest_report_header, \\
    pytest_terminal_summary  # noqa: F401 -- pytest finds hooks by name here
'''
# Everything the stub, its experiments and the self-check import; torch is installed first (see the README).
REQUIREMENTS = """# What optimizers.py, its experiments and the self-check (pytest grader) need.
# Install torch first as the README says (its CPU-only build is enough), then: pip install -r requirements.txt
torch>=2.1
numpy
matplotlib>=3.7
pillow  # matplotlib writes the animations (GIF) with it
pytest>=7
"""
# Makes the bundle's folder pytest's root when the self-check is run from it, so that a pytest
# configuration in a folder above (a course's pyproject.toml) does not change how it runs.
PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"
NAME = "optimizers-assignment"


class ReleaseError(OptimkitError):
    pass


def build_release(out, make_zip=False, seed=None, language=None):
    """Write the bundle into the folder `out` (made empty first if it only holds an earlier bundle);
    with make_zip also `out` + ".zip". Returns the paths written.

    language: what students read in it (the README, the stub and notebook, the self-check's verdicts, the
    known mistakes' titles and hints); by default the language this process speaks (`--lang`)."""
    with i18n.speaking(language or i18n.language()):
        return _build_release(out, make_zip, seed)


def _build_release(out, make_zip, seed):
    seed = RELEASE_SEED if seed is None else seed
    if seed == defaults.SEED:
        raise ReleaseError(
            f"the release seed must differ from grading's ({defaults.SEED}): the public cases would be the graded ones"
        )
    out = Path(out)
    earlier = any((out / folder / "cases.json").exists() for folder in (FOLDER, "selfcheck"))  # selfcheck/: before 0.2
    if out.exists() and any(out.iterdir()) and not earlier:
        raise ReleaseError(f"{out} exists and is not an earlier bundle: choose an empty or new folder")
    parts = build_cases(seed)
    refusal = inseparable(parts)
    if refusal is not None:
        raise ReleaseError(refusal)
    stubs = build_assignment(files=("optimizers.py", "optimizers.ipynb"))
    files = {
        "optimizers.py": _script(stubs["optimizers.py"]),
        "optimizers.ipynb": _notebook(stubs["optimizers.ipynb"]),
        "README.md": readme(),
        "requirements.txt": REQUIREMENTS,
        "pytest.ini": PYTEST_INI,
        f"{FOLDER}/conftest.py": CONFTEST,
        f"{FOLDER}/rubric.json": json.dumps(_rubric(), indent=1),
        f"{FOLDER}/cases.json": json.dumps({"release_seed": seed, "parts": parts}, separators=(",", ":")),
        f"{FOLDER}/language.json": json.dumps({"language": i18n.language()}) + "\n",
    }
    for source, target in SELFCHECK_FILES.items():
        files[f"{FOLDER}/{target}"] = (SELFCHECK / source).read_text(encoding="utf-8")
    for source, target in SHARED_FILES.items():
        files[f"{FOLDER}/{target}"] = (SELFCHECK.parents[1] / source).read_text(encoding="utf-8")
    files[f"{FOLDER}/{I18N_TARGET}"] = (SELFCHECK.parents[1] / I18N_SOURCE).read_text(encoding="utf-8")
    catalogs = _catalogs()
    findings = scan_files({**{name: text.encode("utf-8") for name, text in files.items()}, **catalogs})
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
    for name, data in catalogs.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    if make_zip:
        archive = out.with_name(out.name + ".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, content in sorted({**files, **catalogs}.items()):
                bundle.writestr(f"{NAME}/{name}", content)
        written.append(archive)
    return written


def _catalogs():
    """{bundle path: bytes} of the compiled catalogs the self-check speaks the release's language with
    (none for English, which needs none), beside the shipped language module as gettext looks them up."""
    language = i18n.language()
    if language == i18n.DEFAULT:
        return {}
    folder = f"{i18n.locale_of(language)}/LC_MESSAGES"
    target = f"{FOLDER}/{Path(I18N_TARGET).parent.as_posix()}/{folder}"
    return {f"{target}/{domain}.mo": (i18n.CATALOGS / folder / f"{domain}.mo").read_bytes() for domain in I18N_DOMAINS}


def _rubric():
    """Every rubric item with its points; x_init_untouched as advice, Nesterov as the opt-in bonus.
    Titles in the release's language where a catalog has them (the grader's own report shows the same)."""
    chosen = rubric.load(defaults.RUBRIC, enable=("nesterov",))
    items = [
        {
            "part": t.part,
            "test": t.test,
            "title": _(t.title),
            "points": t.points,
            "graded": True,
            "bonus": t.part == "nesterov",
        }
        for t in chosen.tests
    ]
    items += [
        {"part": t.part, "test": t.test, "title": _(t.title), "points": 0, "graded": False, "bonus": False}
        for t in chosen.advice
    ]
    order = list(dict.fromkeys(item["part"] for item in items))
    return sorted(items, key=lambda item: order.index(item["part"]))


def _script(text):
    """The stub as students receive it: the self-check's line names the bundle's file, and nothing names
    the kit's own commands, which students do not have (in whatever language the stub's header is)."""
    text = re.sub(r"^(    pytest grader .*?)assignments/optimizers\.py", r"\1optimizers.py", text, count=1, flags=re.M)
    return re.sub(r'\n\n[^\n]*`python -m grader assign`[^\n]*?(?="""|$)', "", text, count=1, flags=re.M)


SELF_CHECK_CELL = """# Self-check: checks a notebook FILE AS SAVED ON DISK, not what this kernel has defined: save first
# (Ctrl+S, or File > Save), then run this cell. It runs `pytest grader --submission NOTEBOOK` and says
# which file it checked. NOTEBOOK = None checks this very notebook where Jupyter or VS Code says which it
# is, or the only notebook in this folder; to check another, name it: NOTEBOOK = "optimizers.ipynb".
NOTEBOOK = None
if __name__ == "__main__":
    import glob
    import os
    import subprocess
    import sys

    _names = [NOTEBOOK, globals().get("__vsc_ipynb_file__"), globals().get("__session__"),
              os.environ.get("JPY_SESSION_NAME")]
    _found = [name for name in _names if name and str(name).endswith(".ipynb") and os.path.isfile(name)]
    _here = sorted(glob.glob("*.ipynb"))
    _notebook = _found[0] if _found else _here[0] if len(_here) == 1 else None
    if _notebook is None:
        print(f"This folder holds {len(_here)} notebooks ({', '.join(_here) or 'none'}) and Jupyter does not say which one "
              "this is: set NOTEBOOK above to the one to check, e.g. NOTEBOOK = \\"optimizers.ipynb\\".")
    elif not os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(_notebook)), "grader")):
        print(f"{_notebook} has no grader/ folder beside it: keep the notebook in the assignment's folder.")
    else:
        _folder = os.path.dirname(os.path.abspath(_notebook))
        print(f"Checking {os.path.abspath(_notebook)} as saved on disk")
        _check = subprocess.run([sys.executable, "-m", "pytest", "grader", "--submission", os.path.abspath(_notebook),
                                 "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=_folder)
        print(_check.stdout[-20000:], _check.stderr[-5000:])
"""

# What the cell says, in the release's language (`self_check_cell`; English: the cell above as it is).
# Commands and file names are {placeholders} (CELL_NAMES), kept out of the words translated.
CELL_NAMES = {"command": "pytest grader --submission NOTEBOOK", "example": "optimizers.ipynb"}
CELL_COMMENT = N_(
    """Self-check: checks a notebook FILE AS SAVED ON DISK, not what this kernel has defined: save first
(Ctrl+S, or File > Save), then run this cell. It runs `{command}` and says
which file it checked. NOTEBOOK = None checks this very notebook where Jupyter or VS Code says which it
is, or the only notebook in this folder; to check another, name it: NOTEBOOK = "{example}"."""
)
CELL_SEVERAL = N_(
    "This folder holds {count} notebooks ({names}) and Jupyter does not say which one this is: set NOTEBOOK "
    'above to the one to check, e.g. NOTEBOOK = "{example}".'
)
# Translators: in "This folder holds 0 notebooks (none)".
CELL_NONE = N_("none")
CELL_NO_GRADER = N_("{notebook} has no grader/ folder beside it: keep the notebook in the assignment's folder.")
CELL_CHECKING = N_("Checking {notebook} as saved on disk")


def self_check_cell():
    """The self-check cell in the language this process speaks: its comment and what it prints."""
    if i18n.language() == i18n.DEFAULT:
        return SELF_CHECK_CELL
    lines = SELF_CHECK_CELL.splitlines(keepends=True)
    comment = [index for index, line in enumerate(lines) if line.startswith("# ")]
    several = next(index for index, line in enumerate(lines) if "This folder holds" in line)
    no_grader = next(index for index, line in enumerate(lines) if "has no grader/ folder" in line)
    checking = next(index for index, line in enumerate(lines) if 'print(f"Checking ' in line)
    indent = " " * 8
    several_text = _(CELL_SEVERAL).replace("{example}", CELL_NAMES["example"])
    # From the bottom up, so that a replacement of a different length leaves the indices above as they are.
    lines[checking] = f"{indent}print({_(CELL_CHECKING)!r}.format(notebook=os.path.abspath(_notebook)))\n"
    lines[no_grader] = f"{indent}print({_(CELL_NO_GRADER)!r}.format(notebook=_notebook))\n"
    lines[several : several + 2] = [
        f"{indent}print({several_text!r}.format(count=len(_here), names=', '.join(_here) or {_(CELL_NONE)!r}))\n"
    ]
    lines[comment[0] : comment[-1] + 1] = [f"# {line}\n" for line in _(CELL_COMMENT).format(**CELL_NAMES).splitlines()]
    return "".join(lines)


CHECK_MARKDOWN = N_("""## Check your work

Run the cell below **after saving the notebook** (Ctrl+S): it checks the notebook as it is saved on disk
(this one, or the file you name in it), not the definitions in this kernel, so unsaved edits are not
seen. Each part (AdaGrad, RMSprop, Momentum, Adam, and the trajectory of `train_f`) gets one test per
rubric item; a failing test shows the input, what was expected, what your code returned, and which
classic mistake it matches. The points at the end are those of the public cases; grading uses more
cases, drawn differently (see README.md).

From a terminal in this folder, the same: `{command}`.""")
CHECK_COMMAND = "pytest grader --submission optimizers.ipynb"


def _notebook(text):
    notebook = json.loads(text)
    cells = notebook["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    checks = [  # the generator's section "self-check" (its cell id ends so), in whatever language it is written
        index
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
        and (
            str(cell.get("id", "")).endswith("-self-check") or "".join(cell["source"]).startswith("## Check your work")
        )
    ]
    markdown = {
        "cell_type": "markdown",
        "id": "self-check-text",
        "metadata": {},
        "source": _(CHECK_MARKDOWN).format(command=CHECK_COMMAND).splitlines(keepends=True),
    }
    code = {
        "cell_type": "code",
        "execution_count": None,
        "id": "self-check",
        "metadata": {},
        "outputs": [],
        "source": self_check_cell().splitlines(keepends=True),
    }
    if checks:
        cells[checks[0]] = markdown
        cells.insert(checks[0] + 1, code)
    else:
        cells += [markdown, code]
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
