"""Can a newcomer find their way in grader/? Three measures of the layout, read from the files.

- no module of grader/ is over MAX_LINES lines: a module that grows past it holds more than one concern,
  and is split by concern into a package (as grader/explain/edits/ and grader/untrusted/confine/ were);
- at most MAX_LOOSE modules lie loose at the top of grader/: the rest sit in the folder of their layer
  (judge, explain, sandbox, untrusted, inputs, outputs, cli, batch, release, platforms);
- every module opens with a docstring, which says what it is (and, for most, which side of the sandbox
  it runs on): the map an architecture page is drawn from.

Each check is tested on a folder made to fail it, so that none passes by reading nothing.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GRADER = ROOT / "grader"
MAX_LINES = 500
MAX_LOOSE = 12


def too_long(folder, limit=MAX_LINES):
    """{path relative to folder: lines} of every module under `folder` over `limit` lines."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[path.relative_to(folder).as_posix()] = lines
    return found


def loose(folder):
    """The modules directly in `folder` (not in a sub-folder)."""
    return sorted(path.name for path in folder.glob("*.py"))


def without_docstring(folder):
    """Every module under `folder` whose first statement is not a docstring (an empty module has none)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) is None:
            found.append(path.relative_to(folder).as_posix())
    return found


def test_the_grader_has_modules_to_measure():
    """The measures below read the real tree (a wrong root would make every one of them pass)."""
    assert len(list(GRADER.rglob("*.py"))) > 100
    assert (GRADER / "explain" / "mistakes" / "adam.py").is_file()


def test_no_module_of_the_grader_is_over_500_lines():
    assert too_long(GRADER) == {}, f"split these by concern (at most {MAX_LINES} lines each)"


def test_at_most_12_modules_are_loose_at_the_top_of_the_grader():
    modules = loose(GRADER)
    assert len(modules) <= MAX_LOOSE, f"{len(modules)} loose modules: {', '.join(modules)}; move some into a layer"


def test_every_module_of_the_grader_opens_with_a_docstring():
    assert without_docstring(GRADER) == []


@pytest.fixture
def untidy(tmp_path):
    """A folder that breaks every rule: a long module, too many loose ones, a module without a docstring."""
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "long.py").write_text('"""Long."""\n' + "x = 1\n" * MAX_LINES, encoding="utf-8")
    (tmp_path / "layer" / "bare.py").write_text("import os\n", encoding="utf-8")
    (tmp_path / "layer" / "late.py").write_text('import os\n\n"""Not first: no docstring."""\n', encoding="utf-8")
    for index in range(MAX_LOOSE + 1):
        (tmp_path / f"loose_{index}.py").write_text(f'"""Module {index}."""\n', encoding="utf-8")
    return tmp_path


def test_the_checks_find_what_breaks_the_rules(untidy):
    assert too_long(untidy) == {"layer/long.py": MAX_LINES + 1}
    assert len(loose(untidy)) == MAX_LOOSE + 1
    assert without_docstring(untidy) == ["layer/bare.py", "layer/late.py"]


def test_the_checks_let_a_tidy_folder_pass(tmp_path):
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "just.py").write_text('"""Just."""\n' + "x = 1\n" * (MAX_LINES - 1), encoding="utf-8")
    (tmp_path / "main.py").write_text('"""Main."""\n', encoding="utf-8")
    assert too_long(tmp_path) == {}
    assert loose(tmp_path) == ["main.py"]
    assert without_docstring(tmp_path) == []
