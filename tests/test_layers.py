"""Is the trust boundary where the layout says it is? The import contract, read from the source with ast.

- `grader.untrusted` (the code that runs inside the sandbox, next to student code) imports only itself,
  `grader.sandbox.protocol`, the standard library, torch and numpy: nothing that judges, nothing that knows an
  answer;
- `grader.sandbox.protocol` (the wire format both sides speak) imports only the standard library and torch;
- nothing trusted imports `grader.untrusted`, but for the batch's recorder, which runs the solution
  (trusted code) through the very same operations in processes of its own;
- `reference` (the oracle) never imports the grader;
- each layer imports only what lies below it (LAYER_RULES: `sandbox` nothing of the grader but itself; `inputs`
  nothing that judges or writes; `judge` nothing that writes, drives a class or a platform; `explain` of the
  judge only the comparison; `outputs` nothing that drives; `i18n` nothing of the kit; nothing but `grader.cli` imports the
  command line), but for the crossings KNOWN_CROSSINGS names, to be removed;
- the import graph of the grader's module-level imports has no cycle;
- an import inside a function is a documented start-up one (ruff's PLC0415, each with its reason).
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIRD_PARTY_IN_SANDBOX = {"torch", "numpy"}
MAY_IMPORT_UNTRUSTED = {"grader.batch.recording"}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(tree):
    """The import statements that run when the module is imported: its body's, and those of an `if` or a
    `try` at its top (never a function's or a class's)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            todo += node.body + node.orelse + getattr(node, "finalbody", [])
            for handler in getattr(node, "handlers", []):
                todo += handler.body


def _imports(path, module_level=False):
    """Every module `path` imports (absolute names; relative imports resolved), wherever in the file (with
    module_level, only where it runs at import)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _module_level(tree) if module_level else ast.walk(tree)
    for node in nodes:
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


# ------------------------------------------------------------------------------------------- the layers

#: (layer, what it must never import, why). A layer or a target is a module or a package (with all below it).
LAYER_RULES = [
    (
        "grader.sandbox",
        ("grader.judge", "grader.explain", "grader.inputs", "grader.outputs", "grader.grading", "grader.plugin")
        + ("grader.cli", "grader.batch", "grader.platforms", "grader.release", "grader.assignment"),
        "the trusted end of the boundary runs a sandbox and nothing else: it knows no answer and writes no result",
    ),
    (
        "grader.inputs",
        ("grader.judge", "grader.explain", "grader.outputs", "grader.sandbox", "grader.grading", "grader.plugin")
        + ("grader.cli", "grader.batch", "grader.platforms", "grader.release"),
        "reading a submission or a class folder judges nothing and writes nothing",
    ),
    (
        "grader.judge",
        ("grader.outputs", "grader.cli", "grader.batch", "grader.platforms", "grader.release", "grader.grading")
        + ("grader.plugin", "grader.inputs"),
        "a verdict is made from the sandbox's answers alone: not from how it is shown, or who asked",
    ),
    (
        "grader.explain",
        ("grader.judge.checks", "grader.judge.properties", "grader.judge.trajectory", "grader.judge.rubric")
        + ("grader.judge.strategies", "grader.judge.torch_oracle", "grader.sandbox", "grader.untrusted")
        + ("grader.inputs", "grader.outputs", "grader.cli", "grader.batch", "grader.platforms", "grader.release")
        + ("grader.grading", "grader.plugin"),
        "the mistakes and their explanations are pure functions of numbers: of the judge, the comparison only",
    ),
    (
        "grader.outputs",
        ("grader.cli", "grader.batch", "grader.platforms", "grader.release", "grader.grading", "grader.plugin"),
        "what is written is built from results: it drives no grading, no class and no platform",
    ),
    (
        "grader.assignment",
        ("grader.cli", "grader.batch", "grader.platforms", "grader.release", "grader.outputs", "grader.sandbox"),
        "the stubs are generated from the reference alone",
    ),
    (
        "grader.release",
        ("grader.cli", "grader.batch", "grader.platforms", "grader.outputs", "grader.sandbox", "grader.grading"),
        "the bundle is built from the reference, the bank and the rubric, never by grading",
    ),
    (
        "grader.batch",
        ("grader.cli", "grader.platforms", "grader.release"),
        "a class is graded the same whichever command or platform asks",
    ),
    (
        "grader.platforms",
        ("grader.cli", "grader.batch", "grader.release"),
        "a platform grades one submission as `check` does",
    ),
    (
        "grader.i18n",
        ("grader.sandbox", "grader.untrusted", "grader.inputs", "grader.judge", "grader.explain", "grader.outputs")
        + ("grader.assignment", "grader.release", "grader.batch", "grader.platforms", "grader.cli", "grader.grading")
        + ("grader.plugin", "grader.defaults", "grader.errors", "reference"),
        "the catalogs' lookup is the standard library's alone: the release ships it verbatim to students",
    ),
]
#: Crossings of LAYER_RULES that exist today, each to be removed by moving the shared piece where it belongs.
KNOWN_CROSSINGS = {
    # the Moodle worksheet's reader, used to find groups among the downloads, lives with the Moodle gradebook
    ("grader.inputs.discover.plain_canvas_moodle", "grader.outputs.gradebook"),
    ("grader.inputs.discover.plain_canvas_moodle", "grader.outputs.gradebook.moodle"),
}


def _within(name, prefix):
    return name == prefix or name.startswith(prefix + ".")


def _crossings(module, imported, forbidden):
    """The project modules among `imported` that `module` may not import (`forbidden`: modules or packages)."""
    found = set()
    for name in imported:
        own = _project_module(name) if name.split(".")[0] in ("grader", "reference") else None
        forbidden_here = own is not None and any(_within(own, target) for target in forbidden)
        if forbidden_here and (module, own) not in KNOWN_CROSSINGS:
            found.add(own)
    return found


@pytest.mark.parametrize("layer, forbidden, why", LAYER_RULES, ids=[rule[0] for rule in LAYER_RULES])
def test_each_layer_imports_only_what_lies_below_it(layer, forbidden, why):
    """Does every module of the layer keep off the layers above it (LAYER_RULES says why)?"""
    folder = ROOT.joinpath(*layer.split("."))
    paths = _modules(folder.relative_to(ROOT)) if folder.is_dir() else [folder.with_suffix(".py")]
    wrong = {}
    for path in paths:
        found = _crossings(_module_name(path), _imports(path), forbidden)
        if found:
            wrong[str(path.relative_to(ROOT))] = sorted(found)
    assert not wrong, f"{why}; yet: {wrong}"


def test_the_known_crossings_still_exist():
    """Is every exception of KNOWN_CROSSINGS still needed (one removed must leave the list too)?"""
    graph = {_module_name(path): {_project_module(name) for name in _imports(path)} for path in _modules("grader")}
    stale = {(module, target) for module, target in KNOWN_CROSSINGS if target not in graph.get(module, ())}
    assert not stale


def test_only_the_command_line_imports_the_command_line():
    """Is `grader.cli` the top of the grader: imported by itself and `python -m grader` only?"""
    importers = {
        _module_name(path)
        for path in _modules("grader")
        if not _within(_module_name(path), "grader.cli")
        and any(_within(_project_module(name) or "", "grader.cli") for name in _imports(path))
    }
    assert importers <= {"grader.__main__"}


def _graph(paths):
    """{module: the project modules its module-level imports load} (a package's `__init__` included, but not
    a module's own packages, which are always loaded before it)."""
    graph = {}
    for path in paths:
        name = _module_name(path)
        targets = set()
        for imported in _imports(path, module_level=True):
            own = _project_module(imported) if imported.split(".")[0] in ("grader", "reference") else None
            if own is None:
                continue
            parts = own.split(".")
            targets.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        graph[name] = {target for target in targets if target != name and not name.startswith(target + ".")}
    return graph


def _cycle(graph):
    """One import cycle of `graph` as a list of modules, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_grader_imports_without_a_cycle():
    """Can every module of the grader and the reference be imported on its own, whatever was imported first
    (no cycle among the imports that run at import time)?"""
    assert _cycle(_graph(_modules("grader") + _modules("reference"))) is None


def _ruff():
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, 'ruff is missing: install the test extra (pip install -e ".[test]")'
    return found


def _inner_imports(*paths, cwd=ROOT):
    return subprocess.run(
        [_ruff(), "check", "--no-cache", "--select", "PLC0415", "--output-format", "concise", *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_imports_inside_functions_are_the_documented_ones():
    """Is every import inside a function of the grader one of the start-up ones, marked and explained
    (`# noqa: PLC0415 -- why it must wait`)?"""
    done = _inner_imports("grader")
    assert done.returncode == 0, done.stdout + done.stderr
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _modules("grader")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "PLC0415" in line and " -- " not in line.partition("# noqa")[2]
    ]
    assert not unexplained, f"a `# noqa: PLC0415` without its reason: {unexplained}"


def test_the_layer_checks_can_fail(tmp_path):
    """Would each check see what it forbids? (A probe per rule, a cycle, an undocumented inner import.)"""
    for layer, forbidden, _ in LAYER_RULES:
        assert _crossings(f"{layer}.probe", {f"{forbidden[0]}.anything"}, forbidden) == {forbidden[0]}
        assert _crossings(f"{layer}.probe", {"json", layer}, forbidden) == set()
    assert (
        _crossings(
            "grader.inputs.discover.plain_canvas_moodle", {"grader.outputs.gradebook.moodle"}, ("grader.outputs",)
        )
        == set()
    )
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import json\n\n    return json\n", encoding="utf-8")
    assert "PLC0415" in _inner_imports("probe.py", cwd=tmp_path).stdout
    # A module-level import under `try` counts for the cycle check; one inside a function does not.
    source = "try:\n    import grader.cli\nexcept ImportError:\n    pass\ndef f():\n    import grader.batch\n"
    names = {node.names[0].name for node in _module_level(ast.parse(source))}
    assert names == {"grader.cli"}


def test_the_contract_can_fail():
    """Would a forbidden import be seen? (The walker resolves relative imports, as the checks need.)"""
    probe = ROOT / "grader" / "untrusted" / "dispatch.py"
    names = _imports(probe)
    assert "grader.sandbox.protocol" in names and "grader.untrusted.operations" in names
