"""Finding the solution regions: the lines between `# BEGIN SOLUTION` and `# END SOLUTION`.

A region must sit inside one function's body, after its docstring, with both markers on lines of
their own at the same indentation. Anything else (a marker missing, unpaired, nested, misspelt,
trailing code, or outside a function) is an error naming the file and line: a broken marker must
never turn into a silent stub that gives the solution away or blanks the wrong code.
"""

import ast
import io
import re
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import AssignmentError

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
# Anything that looks like a marker but is not spelt exactly like one ("#begin solution", "# END_SOLUTION").
_LOOKALIKE = re.compile(r"^#+\s*(BEGIN|END)[\s_-]*SOLUTION\b", re.IGNORECASE)


@dataclass(frozen=True)
class Region:
    """A solution region: file lines `begin` and `end` are its two marker lines."""

    path: Path
    begin: int
    end: int
    indent: str  #: the markers' indentation, which replacement lines take
    qualname: str  #: the function it sits in, e.g. "Adagrad.adagrad"
    summary: str  #: the first line of that function's docstring
    def_line: int  #: the line of the function's `def`
    docstring: str = ""  #: that function's whole docstring, cleaned (a message of the catalog: `docstrings`)


def find_regions(draft):
    """Pipeline step: attach every module's regions to it (before any step changes a line)."""
    modules = tuple(replace(module, regions=regions_of(module.path, module.tree)) for module in draft.modules)
    return replace(draft, modules=modules)


def regions_of(path: Path, tree: "ast.Module | None" = None) -> tuple:
    """The regions of one file, validated; `tree` is the file's parsed source, if already at hand."""
    text = Path(path).read_text(encoding="utf-8")
    if tree is None:
        tree = ast.parse(text, filename=str(path))
    functions = _functions(tree.body, stop=len(text.splitlines()) + 1, prefix="")
    regions, opened = [], None
    for line, column, kind in _markers(path, text):
        if kind == BEGIN:
            if opened is not None:  # reported where the END is missing, the likelier mistake
                raise AssignmentError(
                    path,
                    opened[0],
                    f"'{BEGIN}' is not closed before the next '{BEGIN}' at line {line}: "
                    f"add '{END}' after this solution (regions do not nest)",
                )
            opened = (line, column)
        else:
            if opened is None:
                raise AssignmentError(path, line, f"'{END}' without a '{BEGIN}' before it")
            if column != opened[1]:
                raise AssignmentError(
                    path, line, f"'{END}' is indented differently from its '{BEGIN}' at line {opened[0]}"
                )
            regions.append(_region(path, functions, opened[0], line, column))
            opened = None
    if opened is not None:
        raise AssignmentError(path, opened[0], f"'{BEGIN}' is never closed: add '{END}' after the solution")
    return tuple(regions)


def _markers(path, text):
    """(line, column, BEGIN or END) for every marker comment, in order; rejects look-alikes."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise AssignmentError(path, None, f"cannot be tokenized: {error}") from None
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        comment = token.string.strip()
        if not _LOOKALIKE.match(comment):
            continue
        line, column = token.start
        if comment not in (BEGIN, END):
            raise AssignmentError(path, line, f"malformed marker {comment!r}: write exactly '{BEGIN}' or '{END}'")
        if token.line[:column].strip():
            raise AssignmentError(path, line, f"'{comment}' must stand on a line of its own, not after code")
        yield line, column, comment


def _functions(body, stop, prefix):
    """(qualname, node, stop) for every function, where `stop` is the line its next sibling starts on.

    The `stop` bound (rather than the node's end_lineno) lets a region's END marker be the function's
    last line: a comment after the final `return` belongs to no statement.
    """
    found = []
    for index, node in enumerate(body):
        node_stop = _first_line(body[index + 1]) if index + 1 < len(body) else stop
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((prefix + node.name, node, node_stop))
            found += _functions(node.body, node_stop, f"{prefix}{node.name}.<locals>.")
        elif isinstance(node, ast.ClassDef):
            found += _functions(node.body, node_stop, f"{prefix}{node.name}.")
    return found


def _first_line(node):
    return min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])


def _region(path, functions, begin, end, column):
    # The innermost function whose body the markers sit in: after its `def`, before its next sibling,
    # and indented deeper than the `def` itself.
    around = [
        (qualname, node)
        for qualname, node, stop in functions
        if node.lineno < begin and end < stop and column > node.col_offset
    ]
    if not around:
        raise AssignmentError(
            path, begin, f"the region from line {begin} to {end} must open and close inside one function's body"
        )
    qualname, function = max(around, key=lambda pair: pair[1].lineno)
    docstring = ast.get_docstring(function)
    body_start = function.body[0]
    if docstring is not None and body_start.lineno >= begin:
        raise AssignmentError(
            path,
            begin,
            f"the region in {qualname} starts before its docstring: students need the docstring, "
            "so open the region after it",
        )
    for line, marker in ((begin, BEGIN), (end, END)):
        for node in ast.walk(function):
            # A simple statement (no body of its own) spanning the marker's line would be cut in two.
            if isinstance(node, ast.stmt) and not hasattr(node, "body") and node.lineno < line <= node.end_lineno:
                raise AssignmentError(
                    path,
                    begin,
                    f"'{marker}' at line {line} splits the statement that starts at line {node.lineno}: "
                    "a region must hold whole statements",
                )
    inside = [node for node in ast.walk(function) if isinstance(node, ast.stmt) and begin < node.lineno < end]
    if not inside:
        raise AssignmentError(path, begin, f"the region in {qualname} holds no statement")
    summary = docstring.strip().splitlines()[0].rstrip(".") if docstring else ""
    return Region(Path(path), begin, end, " " * column, qualname, summary, function.lineno, docstring or "")


def rewrite_regions(module, replacement):
    """Apply `replacement(region, region_lines) -> new_lines` to every region of the module's blocks."""
    blocks = []
    for block in module.blocks:
        lines = list(block.lines)
        inside = [region for region in module.regions if block.first_line <= region.begin <= block.last_line]
        for region in sorted(inside, key=lambda region: region.begin, reverse=True):
            start, stop = region.begin - block.first_line, region.end - block.first_line + 1
            lines[start:stop] = replacement(region, lines[start:stop])
        if inside:
            _check_still_python(module.path, inside[0], "\n".join(lines))
        blocks.append(replace(block, lines=tuple(lines)))
    return replace(module, blocks=tuple(blocks))


def _check_still_python(path, region, text):
    try:
        ast.parse(text)
    except SyntaxError as error:
        raise AssignmentError(
            path,
            region.begin,
            f"rewriting the region of {region.qualname} leaves invalid Python ({error.msg}): "
            "a region must hold whole statements",
        ) from None
