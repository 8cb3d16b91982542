"""The reference's words in the language students read: a pipeline step, and the units it translates.

Every class's and function's docstring, and every run of whole-line comments, that the student file
takes from the reference is one message of the "assignment" catalog. A docstring's msgid is the text
`ast.get_docstring` returns (cleaned by `inspect.cleandoc`); a comment run's is its lines without their
`# ` (or `#: `), joined by line breaks. `docstrings` and `comments` find them, for this step and for
tools/extract_docstrings.py, so that the texts extracted are the texts looked up. A translation keeps
the formulas and identifiers as they are. In English nothing is rewritten: the English files keep the
reference's lines byte for byte. Code stays code: only docstrings and comments change.
"""

import ast
import inspect
import io
import tokenize
from dataclasses import replace

from grader import i18n
from grader.i18n import _

from .errors import AssignmentError

_DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
#: Comments that are no prose: tool pragmas and the solution markers (never translated).
_NOT_PROSE = ("noqa", "type:", "pragma", "BEGIN SOLUTION", "END SOLUTION")


def docstrings(tree: ast.AST) -> list:
    """(statement, text) of the docstring of every class and function in `tree`, in line order."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, _DEFINITIONS):
            text = ast.get_docstring(node)
            if text:
                found.append((node.body[0], text))
    return sorted(found, key=lambda pair: pair[0].lineno)


def comments(text: str) -> list:
    """(first line, last line, column, prefix, text) of every run of whole-line comments in `text`.

    A run is consecutive comment lines at one column with one prefix (`# `, or `#: ` for a Sphinx
    attribute comment); its text is their words joined by line breaks. Comments after code on their
    line, pragmas and the solution markers are not prose and belong to no run.
    """
    runs: list = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT or token.line[: token.start[1]].strip():
            continue
        prefix = next((prefix for prefix in ("#: ", "# ") if token.string.startswith(prefix)), None)
        words = token.string[len(prefix) :].rstrip() if prefix else ""
        if not words or words.startswith(_NOT_PROSE):
            continue
        line, column = token.start
        if runs and runs[-1][1] == line - 1 and runs[-1][2:4] == (column, prefix):
            first, _last, _column, _prefix, before = runs[-1]
            runs[-1] = (first, line, column, prefix, f"{before}\n{words}")
        else:
            runs.append((line, line, column, prefix, words))
    return runs


def translated_code(path, label: str, first_line: int, lines: list) -> list:
    """`lines` (whole statements) with their comments in the language spoken (English: as they are)."""
    if i18n.language() == i18n.DEFAULT:
        return lines
    lines = list(lines)
    runs = comments("\n".join(lines))
    for first, last, column, prefix, text in reversed(runs):
        translation = translated(text)
        if translation != text:
            lines[first - 1 : last] = [" " * column + prefix + line for line in translation.split("\n")]
    read_back = [run[4] for run in comments("\n".join(lines))]
    if read_back != [translated(run[4]) for run in runs]:
        raise AssignmentError(path, first_line, f"a translated comment of {label} does not read back")
    return lines


def translated(text: str) -> str:
    """A reference docstring in the language this process speaks (one of the units `docstrings` finds)."""
    return _(text)


def summary(region) -> str:
    """The first line of the region's function's docstring, translated, without its final stop."""
    docstring = getattr(region, "docstring", "")
    if not docstring or i18n.language() == i18n.DEFAULT:
        return region.summary
    translation = translated(docstring)
    if translation == docstring:
        return region.summary
    return translation.strip().splitlines()[0].rstrip(".。")


def translate_docstrings(draft):
    """Pipeline step: every docstring and comment of every block in the language spoken (English: untouched).

    Runs after the solution step, on the lines as they will be written: each block is parsed again, so
    the line numbers are the block's own, whatever the earlier steps added or removed.
    """
    if i18n.language() == i18n.DEFAULT:
        return draft
    modules = tuple(
        replace(module, blocks=tuple(_translated_block(module.path, block) for block in module.blocks))
        for module in draft.modules
    )
    return replace(draft, modules=modules)


def _translated_block(path, block):
    lines = translated_code(path, block.label, block.first_line, list(block.lines))
    wanted = []
    for statement, text in reversed(docstrings(ast.parse("\n".join(lines)))):
        translation = translated(text)
        wanted.append(inspect.cleandoc(translation))
        if translation != text:
            start, stop = statement.lineno - 1, statement.end_lineno
            lines[start:stop] = _docstring_lines(path, block, statement, lines[start:stop], translation)
    if lines != list(block.lines):
        written = [text for _statement, text in docstrings(ast.parse("\n".join(lines)))]
        if written != wanted[::-1]:
            raise AssignmentError(path, block.first_line, f"a translated docstring of {block.label} does not read back")
    return replace(block, lines=tuple(lines))


def _docstring_lines(path, block, statement, source, translation):
    """The lines of `statement` (a docstring, as `source` has it) holding `translation` instead.

    The quotes open where they opened and close on a line of their own (or on the line, for a one-line
    text); the lines after the first take the statement's indentation, plus their own in the translation.
    """
    column = statement.col_offset
    indent, opening = source[0][:column], source[0][column:]
    if indent.strip() or source[-1][statement.end_col_offset :].strip():
        raise AssignmentError(path, block.first_line, f"a docstring of {block.label} shares a line with code")
    prefix = opening[: len(opening) - len(opening.lstrip("rRuU"))]
    text = translation if "r" in prefix.lower() else translation.replace("\\", "\\\\")
    if '"""' in text or text.endswith('"'):
        raise AssignmentError(
            path, block.first_line, f"the translation of a docstring of {block.label} breaks its quotes"
        )
    first, *rest = text.split("\n")
    if not rest:
        return [f'{indent}{prefix}"""{first}"""']
    return [f'{indent}{prefix}"""{first}'] + [indent + line if line else "" for line in rest] + [f'{indent}"""']
