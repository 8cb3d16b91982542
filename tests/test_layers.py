"""Is the trust boundary where the layout says it is? The import contract, read from the source with ast.

- `grader.untrusted` (the code that runs inside the sandbox, next to student code) imports only itself,
  `grader.sandbox.protocol`, the standard library, torch and numpy: nothing that judges, nothing that knows an
  answer;
- `grader.sandbox.protocol` (the wire format both sides speak) imports only the standard library and torch;
- nothing trusted imports `grader.untrusted`, but for the batch's recorder, which runs the solution
  (trusted code) through the very same operations in processes of its own;
- `reference` (the oracle) never imports the grader.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIRD_PARTY_IN_SANDBOX = {"torch", "numpy"}
MAY_IMPORT_UNTRUSTED = {"grader.batch.recording"}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every module `path` imports (absolute names; relative imports resolved), wherever in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)  # `from . import x` imports x
    return found


def _modules(folder):
    return sorted((ROOT / folder).rglob("*.py"))


def _is_stdlib(name):
    return name.split(".")[0] in sys.stdlib_module_names


def _project_module(name):
    """The project module `name` refers to, or None (a name imported from a module is not one)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ROOT.joinpath(*parts[:end])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts[:end])
    return None


@pytest.mark.parametrize("path", _modules("grader/untrusted"), ids=lambda path: path.name)
def test_the_sandboxed_code_imports_nothing_that_judges(path):
    """Does each module that runs beside student code import only itself, the wire format, the
    standard library, torch and numpy?"""
    wrong = set()
    for name in _imports(path):
        own = _project_module(name) if name.split(".")[0] in ("grader", "reference") else None
        if own is not None:
            if not (
                own in ("grader", "grader.sandbox", "grader.sandbox.protocol") or own.startswith("grader.untrusted")
            ):
                wrong.add(own)
        elif not (_is_stdlib(name) or name.split(".")[0] in THIRD_PARTY_IN_SANDBOX):
            wrong.add(name)
    assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_the_wire_format_imports_only_the_standard_library_and_torch():
    """Can both sides load grader.sandbox.protocol without loading anything of the other?"""
    wrong = {
        name
        for name in _imports(ROOT / "grader" / "sandbox" / "protocol.py")
        if not (_is_stdlib(name) or name.split(".")[0] == "torch")
    }
    assert not wrong


def test_only_the_recorder_imports_the_sandboxed_code():
    """Does any trusted module import grader.untrusted (it should start it by name, in another process)?"""
    importers = {
        _module_name(path)
        for path in _modules("grader") + _modules("tests") + _modules("bench")
        if "untrusted" not in path.parts and any(name.startswith("grader.untrusted") for name in _imports(path))
    }
    tests_of_it = {name for name in importers if name.startswith("tests.")}
    assert importers - tests_of_it <= MAY_IMPORT_UNTRUSTED


def test_the_reference_never_imports_the_grader():
    """Is the oracle free of the grader, so that the grader can hide it from student code?"""
    wrong = {
        str(path.relative_to(ROOT))
        for path in _modules("reference")
        if any(name.split(".")[0] == "grader" for name in _imports(path))
    }
    assert not wrong


def test_the_contract_can_fail():
    """Would a forbidden import be seen? (The walker resolves relative imports, as the checks need.)"""
    probe = ROOT / "grader" / "untrusted" / "dispatch.py"
    names = _imports(probe)
    assert "grader.sandbox.protocol" in names and "grader.untrusted.operations" in names
