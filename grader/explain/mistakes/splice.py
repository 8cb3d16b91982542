"""Swapping a known mistake's body into the source text of a Python file (a submission, the reference). Trusted side.

Tests and the release's cases use it to build a wrong submission from a correct one: `mutate(source, mistake)`
keeps the file as it is except for the body of the method the mistake replaces.
"""

from __future__ import annotations

import ast
import re
import textwrap

from .mistake import Mistake, optimizer_for


def mutate(source: str, mistake: Mistake) -> str:
    """`source` with the optimizer class's method body replaced by `mistake.body`.

    `source` is the text of any Python file that defines the class (a student's submission,
    `reference/optimizers.py`). The def line, decorators and docstring stay; the rest of the body is
    replaced, re-indented to the body's indentation. Where a name is defined twice the last definition
    wins, as it does when Python runs the file. Raises ValueError naming the class or method if absent.
    """
    class_name = optimizer_for(mistake.rule).__name__
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name]
    if not classes:
        raise ValueError(f"no top-level class {class_name!r} in the source")
    functions = [
        node
        for node in classes[-1].body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == mistake.method
    ]
    if not functions:
        raise ValueError(f"class {class_name!r} defines no method {mistake.method!r}")
    function = functions[-1]

    lines = _lines(source)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    statements = function.body
    docstring = statements[0] if ast.get_docstring(function, clean=False) is not None else None
    if docstring is not None:
        statements = statements[1:]
    first = function.body[0]
    indent = _prefix(lines[first.lineno - 1], first.col_offset)
    if indent.strip():  # the body starts on the def line: move it to a line of its own, then start over
        line = lines[first.lineno - 1]
        body_indent = _indent_of(lines[function.lineno - 1]) + "    "
        lines[first.lineno - 1] = indent.rstrip() + newline + body_indent + line[len(indent) :]
        return mutate("".join(lines), mistake)
    if statements:
        keep = lines[: statements[0].lineno - 1]
        prefix = _prefix(lines[statements[0].lineno - 1], statements[0].col_offset)
        if prefix.strip():  # `"""Doc."""; x = ...`: keep the docstring's part of the line
            keep.append(prefix.rstrip() + newline)
        rest = lines[statements[-1].end_lineno :]
    else:  # only a docstring: the new body goes after it
        assert docstring is not None  # a def's body is never empty
        keep = lines[: docstring.end_lineno]
        keep[-1] = keep[-1].rstrip("\r\n") + newline
        rest = lines[docstring.end_lineno :]
    body = textwrap.indent(textwrap.dedent(mistake.body).strip("\n") + "\n", indent)
    return "".join(keep) + body.replace("\n", newline) + "".join(rest)


def _lines(source):
    """The lines as Python's tokenizer counts them (str.splitlines also splits at form feeds and more)."""
    return re.findall(r".*?(?:\r\n|\r|\n)|.+\Z", source, flags=re.DOTALL)


def _prefix(line, col_offset):
    """The text of `line` before an ast column offset, which counts UTF-8 bytes."""
    return line.encode()[:col_offset].decode()


def _indent_of(line):
    return line[: len(line) - len(line.lstrip())]
