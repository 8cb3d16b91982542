"""Rendering the notebook: nbformat 4.5, no outputs, cell ids derived from the cell's position.

Each section becomes a markdown cell (its title and text) and its code cells, tagged `given`,
`exercise`, `bonus` or `experiment` (a grader can skip the experiment cells by their tag).
"""

import nbformat
from nbformat import v4

from grader.i18n import _

from . import narrative
from .exercises import blanks
from .script import bonus_note

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def render_notebook(draft) -> str:
    """The `.ipynb` text (JSON, keys sorted by nbformat, so the same draft gives the same bytes)."""
    named = [("intro", v4.new_markdown_cell(f"# {_(narrative.TITLE)}\n\n{_intro(draft)}"))]
    for part in draft.parts:
        named.append((part.slug, v4.new_markdown_cell(f"## {part.title}\n\n{part.text}")))
        for cell in part.cells:
            if cell.in_notebook:
                named.append((f"{part.slug}-code", v4.new_code_cell(cell.source, metadata={"tags": list(cell.tags)})))
    cells = []
    for index, (slug, cell) in enumerate(named):
        cell.id = f"{index:02d}-{slug}"  # stable: nbformat would draw random ones
        cells.append(cell)
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def _intro(draft):
    # Translators: one line of the notebook's list of exercises (Markdown): a method and its docstring's first line.
    item = _("- `{qualname}`: {summary}")
    exercises = "\n".join(item.format(qualname=qualname, summary=summary) for qualname, summary in blanks(draft))
    intro = _(narrative.NOTEBOOK_INTRO).format(exercises=exercises, bonus=bonus_note(draft))
    return f"**{_(narrative.SOLUTION_NOTE)}**\n\n{intro}" if draft.solution else intro
