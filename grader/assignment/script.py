"""Rendering the student file: one self-contained module, sections under banners, in outline order."""

from grader.i18n import _

from . import narrative
from .exercises import blanks, bonuses

BANNER_WIDTH = 100


def render_script(draft) -> str:
    """The `.py` text: a docstring that says what to do, then each section's code."""
    pieces = [f'"""{_header(draft)}\n"""']
    for part in draft.parts:
        code = [cell.source for cell in part.cells if cell.in_script]
        if code:
            rule = "# " + "=" * (BANNER_WIDTH - 2)
            pieces.append(f"{rule}\n# {part.title}\n{rule}\n\n" + "\n\n\n".join(code))
    return "\n\n\n".join(pieces) + "\n"


def bonus_note(draft) -> str:
    names = bonuses(draft)
    return "\n\n" + _(narrative.BONUS).format(names=", ".join(names)) if names else ""


def _header(draft):
    width = max((len(qualname) for qualname, _summary in blanks(draft)), default=0)
    exercises = "\n".join(f"    {qualname:<{width}}  {summary}" for qualname, summary in blanks(draft))
    header = _(narrative.SCRIPT_HEADER).format(
        title=_(narrative.TITLE),
        exercises=exercises,
        bonus=bonus_note(draft),
        check=_(narrative.CHECK_LINE),
        generated=_(narrative.GENERATED),
    )
    if draft.solution:
        header = f"{_(narrative.SOLUTION_NOTE)}\n\n{header}"
    if '"""' in header or "\\" in header:
        raise ValueError("the header would break its docstring: no triple quotes or backslashes in narrative.py")
    return header
