"""Do the stub's statements compiled ahead of time behave exactly as if compiled where they stand?"""

import ast
import inspect
import types

import pytest
from grading_support import solution_source

from grader.untrusted import loader, precompiled


@pytest.fixture
def warmed(monkeypatch):
    monkeypatch.setattr(precompiled, "_CODE", {})
    precompiled.warm_from_stub()
    assert len(precompiled._CODE) > 40  # the stub's statements
    return precompiled._CODE


def _same(warm, cold, top=True):
    """Equal code objects (bytecode, constants, names, lines of every instruction), in the same file, all
    the way down. The statement's own code object (a module's) starts at line 1 when compiled where it
    stands, and it is moved as a whole: only its first, artificial instruction (RESUME, which neither
    raises nor shows in a traceback) may differ in line; every other instruction's line must agree."""
    skip = 1 if top else 0
    assert list(warm.co_lines())[skip:] == list(cold.co_lines())[skip:] and warm.co_filename == cold.co_filename
    assert warm.co_code == cold.co_code and warm.co_names == cold.co_names
    if not top:
        assert warm == cold
    for inner, twin in zip(warm.co_consts, cold.co_consts):
        if isinstance(inner, types.CodeType):
            _same(inner, twin, top=False)


def _train_f_alone():
    """The stub's train_f on its own, as a notebook cell holds it: moved up, to line 1."""
    stub = precompiled.STUB.read_text()
    return next(
        text
        for node, text, _ in precompiled.statements(ast.parse(stub), precompiled.source_lines(stub))
        if getattr(node, "name", "") == "train_f"
    )


SHIFTS = {  # a source, and how many of its statements at least are the stub's
    "solution-moved-down": ("# a comment\n\n\n" + solution_source(), 40),
    "stub-with-crlf": (precompiled.STUB.read_text().replace("\n", "\r\n"), 40),
    "form-feed-and-line-separator-in-comments": ("# page\x0cbreak \u2028 here\n" + solution_source(), 40),
    "statements-sharing-lines": ("import math; import os\n" + solution_source(), 40),
    "a-cell-moved-up": (_train_f_alone(), 1),
}


@pytest.mark.parametrize("source, stub_statements", SHIFTS.values(), ids=SHIFTS)
def test_a_precompiled_statement_is_the_statement_compiled_where_it_stands(source, stub_statements, warmed):
    tree = ast.parse(source)
    hits = 0
    for node, text, first in precompiled.statements(tree, precompiled.source_lines(source)):
        hits += text in warmed
        cold = compile(ast.Module(body=[node], type_ignores=[]), "<submission s.py>", "exec")
        _same(precompiled.code_for(node, text, first, "<submission s.py>"), cold)
    assert hits >= stub_statements


def test_errors_and_sources_point_at_the_students_own_lines(warmed, monkeypatch):
    source = "\n\n\n" + solution_source().replace(
        "def train_f(model, optimizer, x_init, epoch):", "def train_f(model, optimizer, x_init, epoch):\n    1 / 0", 1
    )
    module, report = loader.load([("s.py", "<submission s.py>", source)])
    assert report["errors"] == []
    with pytest.raises(ZeroDivisionError) as raised:
        module.train_f(None, None, None, 1)
    assert raised.traceback[-1].lineno + 1 == source.splitlines().index("    1 / 0") + 1
    monkeypatch.setattr(precompiled, "_CODE", {})
    cold, _ = loader.load([("s.py", "<submission s.py>", source)], module_name="cold")
    for name in ("Adam", "Momentum", "SimpleBatchGD", "OptimizedFunction"):  # taken from the stub, moved down
        for method in ("__init__", "step"):
            if hasattr(getattr(cold, name), method):
                warm_code = getattr(getattr(module, name), method).__code__
                cold_code = getattr(getattr(cold, name), method).__code__
                assert (warm_code.co_filename, warm_code.co_firstlineno) == (
                    cold_code.co_filename,
                    cold_code.co_firstlineno,
                )
        assert inspect.getsource(getattr(module, name)) == inspect.getsource(getattr(cold, name))


def test_only_the_stubs_statements_are_compiled_ahead(warmed):
    """Every child can read the zygote's memory: no solution may be there, only what students have."""
    stub = precompiled.STUB.read_text()
    assert set(warmed) == {
        text for _, text, _ in precompiled.statements(ast.parse(stub), precompiled.source_lines(stub)) if text
    }
    solution = solution_source()
    adam = next(
        text
        for node, text, _ in precompiled.statements(ast.parse(solution), precompiled.source_lines(solution))
        if getattr(node, "name", "") == "Adam"
    )
    assert "M_hat" in adam and adam not in warmed
