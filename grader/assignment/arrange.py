"""Placing the reference's blocks into the outline's sections, as cells ready to render.

Every top-level definition of every module the outline uses must land in exactly one cell, and each
definition must come before the first block of any module that imports it (the student file runs top
to bottom, and the package-relative imports that guaranteed the order are gone). Must run after the
solution step (it copies the final lines) and after `merge_imports` (the Imports cell takes its lines).
"""

from dataclasses import dataclass, replace

from grader.i18n import _

from .docstrings import translated_code
from .errors import AssignmentError
from .exercises import BONUS, EXERCISES
from .imports import relative_imports
from .outline import Imports, NotebookOnly, Reference, ScriptOnly

OUTLINE_FILE = "grader/assignment/outline.py"


@dataclass(frozen=True)
class Cell:
    """A code cell: its source, its notebook tags, and which of the two files it goes to."""

    source: str
    tags: tuple
    in_script: bool = True
    in_notebook: bool = True


@dataclass(frozen=True)
class Part:
    """A section of the outline with its code cells resolved."""

    slug: str
    title: str
    text: str
    cells: tuple


def arrange(draft):
    """Pipeline step: `draft.parts` becomes the outline's sections with their code."""
    modules = {module.name: module for module in draft.modules}
    placed = {}  # (module name, block index) -> position in the file
    parts = []
    for section_index, section in enumerate(draft.outline):
        cells = []
        for cell_index, cell in enumerate(section.cells):
            if isinstance(cell, Imports):
                cells.append(Cell("\n".join(draft.imports), ("given",)))
            elif isinstance(cell, NotebookOnly):
                cells.append(Cell(cell.source, ("experiment",), in_script=False))
            elif isinstance(cell, ScriptOnly):
                source = "\n".join(translated_code(OUTLINE_FILE, section.slug, 1, cell.source.split("\n")))
                cells.append(Cell(source, ("given",), in_notebook=False))
            elif isinstance(cell, Reference):
                module = modules[cell.module]
                indexes = _chosen(module, cell, section)
                for order, index in enumerate(indexes):
                    key = (module.name, index)
                    if key in placed:
                        label = f"{module.name}.{module.blocks[index].label}"
                        raise AssignmentError(
                            OUTLINE_FILE,
                            None,
                            f"section {section.slug!r} places {label}, which an earlier section already placed",
                        )
                    placed[key] = (section_index, cell_index, order)
                blocks = [module.blocks[index] for index in indexes]
                cells.append(Cell(join_blocks(module, indexes), (_role(module, blocks),)))
            else:
                raise TypeError(f"unknown outline cell {cell!r} in section {section.slug!r}")
        # The title and the text in the language the process speaks; the code stays as it is.
        parts.append(Part(section.slug, _(section.title), _(section.text), tuple(cells)))
    _check_every_block_placed(draft.modules, placed)
    _check_definitions_come_first(draft.modules, placed)
    return replace(draft, parts=tuple(parts))


def join_blocks(module, indexes) -> str:
    """The blocks' lines: neighbours in the file keep the file's spacing, others get two blank lines."""
    lines: list[str] = []
    for position, index in enumerate(indexes):
        if position and indexes[position - 1] != index - 1:
            lines = _trimmed(lines) + ["", ""]
        lines += module.blocks[index].lines
    return "\n".join(_trimmed(lines))


def _chosen(module, cell, section):
    if not cell.names:
        return list(range(len(module.blocks)))
    indexes = []
    for name in cell.names:
        found = [index for index, block in enumerate(module.blocks) if name in block.names]
        if not found:
            raise AssignmentError(
                OUTLINE_FILE, None, f"section {section.slug!r} asks for {name!r}, which {module.path} does not define"
            )
        indexes += found
    return indexes


def _role(module, blocks):
    """'exercise' if a block holds a region students write, 'bonus' for an optional one, else 'given'."""
    qualnames = {
        region.qualname
        for region in module.regions
        for block in blocks
        if block.node.lineno <= region.def_line <= block.node.end_lineno
    }
    return "exercise" if qualnames & set(EXERCISES) else "bonus" if qualnames & set(BONUS) else "given"


def _check_every_block_placed(modules, placed):
    for module in modules:
        for index, block in enumerate(module.blocks):
            if (module.name, index) not in placed:
                raise AssignmentError(
                    module.path,
                    block.node.lineno,
                    f"{block.label} is in no section of {OUTLINE_FILE}: "
                    "the student file would lack it; add it to a section",
                )


def _check_definitions_come_first(modules, placed):
    by_name = {module.name: module for module in modules}
    for module in modules:
        first = min(position for (name, _where), position in placed.items() if name == module.name)
        for target, name, line in relative_imports(module):
            if target not in by_name:
                raise AssignmentError(
                    module.path,
                    line,
                    f"imports {name} from {target}, a module that {OUTLINE_FILE} does not use: "
                    "add it to the outline, or the student file would lack it",
                )
            defining = [index for index, block in enumerate(by_name[target].blocks) if name in block.names]
            if not defining:
                raise AssignmentError(module.path, line, f"imports {name} from {target}, which does not define it")
            if placed[(target, defining[0])] > first:
                raise AssignmentError(
                    module.path,
                    line,
                    f"imports {name}, which {OUTLINE_FILE} places after this module's code: "
                    f"list {target} before {module.name}, since the student file runs top to bottom",
                )


def _trimmed(lines):
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
