"""Untrusted side: the assignment stub's top-level statements, compiled once in the zygote.

A submission is the stub with four method bodies filled in, so most of its top-level statements are
the stub's, word for word, often at other line numbers. The zygote compiles the stub's statements
before it forks; a child that loads a statement of the very same text takes that code object, moved
to its own line numbers and file name, instead of compiling it again (about 10 ms a submission).

Only the stub, which every student has, is ever compiled here: a child can see all of this memory.
"""

import ast
import re
import types
from pathlib import Path

STUB = Path(__file__).resolve().parents[2] / "assignments" / "optimizers.py"

_CODE: dict = {}  # a statement's full lines -> its code object, compiled as if it started on line 1


def source_lines(source):
    """The lines of `source` as Python numbers them: ended by \n, \r\n or \r only (str.splitlines
    also breaks at \f, \v, \u2028..., which would slice every later statement at the wrong lines)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", source)


def statements(tree, lines):
    """(node, its full lines as text, first line) for each top-level statement that has lines to
    itself (none shares a line with another); the text is None for the others."""
    body = tree.body
    for index, node in enumerate(body):
        first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", ())])
        alone = (
            node.col_offset == 0
            and (index == 0 or body[index - 1].end_lineno < first)
            and (index + 1 == len(body) or body[index + 1].lineno > node.end_lineno)
        )
        # Keyed with \n line ends: Python reads \r\n and \r as \n, so a Windows copy compiles the same.
        text = "".join(lines[first - 1 : node.end_lineno]).replace("\r\n", "\n").replace("\r", "\n")
        yield node, text if alone else None, first


def warm(source):
    """Compile each statement of `source` (the stub) ahead of time."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for _, text, _ in statements(tree, source_lines(source)):
        if text is not None:
            _CODE[text] = compile(text, "<stub>", "exec")  # as if on line 1: it only ever moves down


def warm_from_stub():
    try:
        warm(STUB.read_text(encoding="utf-8"))
    except OSError:
        pass  # no stub in this installation: every statement is compiled as it comes


def code_for(node, text, first, filename):
    """The code object of the statement `node` whose full lines are `text`, starting at line `first`."""
    known = _CODE.get(text) if text is not None else None
    if known is None:
        return compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
    return _moved(known, first - 1, filename)


def _moved(code, lines, filename):
    """`code` (and the functions and classes inside it) `lines` further down, in `filename`: line
    numbers are stored relative to the first line of each code object."""
    constants = tuple(
        _moved(constant, lines, filename) if isinstance(constant, types.CodeType) else constant
        for constant in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_filename=filename, co_consts=constants)
