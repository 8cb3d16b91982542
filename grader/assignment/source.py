"""Reading a reference module: its imports, and its top-level statements as blocks of source lines.

A block is one top-level statement (a class, a function, a constant) together with the comments and
decorators above it, so that the student file can be assembled from blocks in any order the outline
asks for. Line numbers are the file's own (1-based), for error messages.
"""

import ast
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import AssignmentError
from .outline import reference_modules


@dataclass(frozen=True)
class Block:
    """One top-level statement of a module, with the comment lines right above it."""

    path: Path
    names: tuple  #: the names it defines (a class or function name, an assignment's targets)
    node: ast.stmt
    first_line: int  #: file line of lines[0]
    lines: tuple  #: the source lines, without line ends, up to the next block

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.lines) - 1

    @property
    def label(self) -> str:
        return ", ".join(self.names) or type(self.node).__name__


@dataclass(frozen=True)
class Module:
    """A parsed reference module: `name` is its path inside the package without `.py` ("experiments/runs")."""

    name: str
    path: Path
    tree: ast.Module
    imports: tuple  #: the import statements (ast nodes) at its top
    blocks: tuple  #: Block, in file order
    regions: tuple = field(default=())  #: solution regions, filled in by `markers.find_regions`


def read_module(path: Path, name: "str | None" = None) -> Module:
    """Parse `path` into imports and blocks; imports must all come before the first definition."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise AssignmentError(path, error.lineno, f"not valid Python: {error.msg}") from None
    lines = text.splitlines()
    body = list(tree.body)
    previous_end = 0
    if body and _is_docstring(body[0]):
        previous_end = _end(body.pop(0))
    imports = []
    while body and isinstance(body[0], (ast.Import, ast.ImportFrom)):
        node = body.pop(0)
        imports.append(node)
        previous_end = _end(node)
    starts = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise AssignmentError(
                path,
                node.lineno,
                "an import after the first definition: move it to the top of the file, "
                "where the generator merges the imports of every module into one list",
            )
        starts.append(_start(lines, previous_end, node))
        previous_end = _end(node)
    # A block runs up to the next block's start, so an indented comment after a statement's last line
    # (such as an `# END SOLUTION` after a final `return`) stays with that statement. Its trailing blank
    # lines stay too: blocks joined in file order give back the file's own spacing.
    stops = [start - 1 for start in starts[1:]] + [len(lines)]
    blocks = tuple(
        Block(path, tuple(defined_names(node)), node, start, tuple(lines[start - 1 : stop]))
        for node, start, stop in zip(body, starts, stops)
    )
    return Module(name or path.stem, path, tree, tuple(imports), blocks)


def read_reference(draft):
    """Pipeline step: parse every reference module the outline uses, in the outline's order."""
    modules = []
    for name in reference_modules(draft.outline):
        path = draft.reference / f"{name}.py"
        if not path.is_file():
            raise AssignmentError(path, None, "grader/assignment/outline.py uses this module, which does not exist")
        modules.append(read_module(path, name))
    return replace(draft, modules=tuple(modules))


def defined_names(node: ast.stmt) -> list:
    """The names a top-level statement binds (a class, a function, or the targets of an assignment)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)]


def _end(node: ast.stmt) -> int:
    """A statement's last line (ast.parse sets it on every node; only nodes built by hand lack it)."""
    assert node.end_lineno is not None
    return node.end_lineno


def _start(lines, previous_end, node):
    """The first line of a statement's block: its own first line, or the unindented comments above it."""
    first = previous_end + 1
    while first < node.lineno and not (lines[first - 1].strip() and not lines[first - 1][0].isspace()):
        first += 1
    return first


def _is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
