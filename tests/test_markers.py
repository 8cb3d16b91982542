"""Does `pytest -m "not slow"` leave out exactly the slow families, and can no family's marker go missing?

Each family of slow tests carries a marker registered in pyproject.toml; tests/conftest.py adds `slow` to
every test carrying one. A marker that nobody uses, or a module that loses its marker (and so runs in the
fast loop for minutes, or stops running in `-m slow`), fails here.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LONGEST_FIRST, SLOW_FAMILIES, pytest_collection_modifyitems

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

# Modules whose every test belongs to a family: the marker sits in the module's `pytestmark`.
WHOLE_MODULES = {
    "test_sandbox_attacks.py": "attacks",
    "test_docker_container.py": "container",
    "test_batch_cluster.py": "cluster",
    "test_assignment_notebooks.py": "notebook",
    "test_grading_mutants.py": "mutants",
    "test_grading_hostile.py": "attacks",
    "test_grading_forged_facts.py": "attacks",
    "test_experiments_cli.py": "experiments",
}


def _registered():
    """The markers pyproject.toml registers, by name."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the project's venv has it
    with open(ROOT / "pyproject.toml", "rb") as file:
        lines = tomllib.load(file)["tool"]["pytest"]["ini_options"]["markers"]
    return {line.split(":")[0].strip() for line in lines}


def _marks_used(path):
    """Every `pytest.mark.NAME` written in a module (decorators, `pytestmark`, `pytest.param(marks=...)`)."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        owner = getattr(node, "value", None)
        is_mark = isinstance(owner, ast.Attribute) and owner.attr == "mark" and isinstance(owner.value, ast.Name)
        if isinstance(node, ast.Attribute) and is_mark and owner.value.id == "pytest":
            used.add(node.attr)
    return used


def _module_marks(path):
    """The markers of a module's `pytestmark` assignment."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "pytestmark" for target in node.targets):
            return {
                child.attr
                for child in ast.walk(node.value)
                if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Attribute)
            }
    return set()


def test_the_registry_holds_slow_and_exactly_the_families():
    assert _registered() == {"slow", *SLOW_FAMILIES}


class _Item:
    """What the collection hook reads of a collected test: its file, its markers; and what it adds."""

    def __init__(self, path, *families):
        self.path, self.families, self.added = Path(path), set(families), []

    def get_closest_marker(self, name):
        return name if name in self.families else None

    def add_marker(self, mark):
        self.added.append(mark.name)


def test_the_longest_families_files_run_first_and_each_file_stays_whole():
    """The scheduling hint names only real families; the hook moves a file of an earlier family ahead (all
    of it, in its order, also its tests without the family) and keeps the order of the rest."""
    assert set(LONGEST_FIRST) <= set(SLOW_FAMILIES)
    items = [
        _Item("test_a.py"),
        _Item("test_b.py", "mutants"),
        _Item("test_c.py", LONGEST_FIRST[1]),
        _Item("test_d.py"),
        _Item("test_e.py", LONGEST_FIRST[0]),
        _Item("test_e.py"),
        _Item("test_f.py"),
    ]
    pytest_collection_modifyitems(None, items)
    assert [item.path.name for item in items] == [
        "test_e.py",
        "test_e.py",
        "test_c.py",
        "test_b.py",
        "test_a.py",
        "test_d.py",
        "test_f.py",
    ]
    assert [item.added for item in items[:2]] == [["slow"], []]


def test_every_family_is_used_and_slow_is_never_set_by_hand():
    used = {}
    for path in sorted(TESTS.glob("test_*.py")):
        for name in _marks_used(path):
            used.setdefault(name, []).append(path.name)
    assert not [family for family in SLOW_FAMILIES if family not in used], used
    assert "slow" not in used, f"`slow` follows from a family marker; set the family instead: {used['slow']}"


@pytest.mark.parametrize("module, family", sorted(WHOLE_MODULES.items()))
def test_a_slow_module_carries_its_family(module, family):
    assert family in _module_marks(TESTS / module)


_COLLECT = """
import sys, pytest
class Show:
    def pytest_collection_finish(self, session):
        for item in session.items:
            marks = {mark.name for mark in item.iter_markers()}
            fixtures = {"uses-browser"} & {"uses-" + name for name in item.fixturenames}
            print("ITEM", item.nodeid, ",".join(sorted(marks | fixtures)))
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[Show()]))
"""


def _collected(*modules):
    """Each collected test of the modules, with the names of its markers as pytest sees them (and
    `uses-browser` where it asks for the browser fixture)."""
    result = subprocess.run(
        [sys.executable, "-c", _COLLECT, *(str(TESTS / module) for module in modules)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    items = [line.split(" ", 2)[1:] for line in result.stdout.splitlines() if line.startswith("ITEM ")]
    return {nodeid: set(filter(None, (marks[0] if marks else "").split(","))) for nodeid, *marks in items}


def test_a_family_marker_implies_slow_and_the_browser_tests_carry_theirs():
    collected = _collected("test_docker_container.py", "test_feedback_pages.py")
    assert collected
    for nodeid, marks in collected.items():
        assert ("slow" in marks) == bool(marks & set(SLOW_FAMILIES)), (nodeid, marks)
        if nodeid.startswith("tests/test_docker_container.py"):
            assert {"container", "slow"} <= marks, nodeid
        if "uses-browser" in marks:
            assert {"browser", "slow"} <= marks, nodeid
    assert any("uses-browser" in marks for marks in collected.values())
    # The page tests that need no browser stay in the fast loop: the outputs layer keeps representatives there.
    assert any("slow" not in marks for nodeid, marks in collected.items() if "feedback" in nodeid)
