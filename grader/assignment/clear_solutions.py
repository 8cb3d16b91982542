"""Stub step: replace each exercise's solution region with a `raise NotImplementedError` naming it.

The docstring above the region (which writes out the update rule) stays; so does everything outside
the regions. A bonus region keeps its solution, its markers turned into a comment saying it is optional.
Must run after `find_regions` (it needs the file's own line numbers) and before `arrange`.
"""

from dataclasses import replace

from .exercises import BONUS
from .markers import rewrite_regions

TODO = "# YOUR CODE HERE: the update rule is in the docstring above. Then delete the raise below."
BONUS_NOTE = (
    "# Bonus (optional): this body is given, so that the experiments can run {name}.",
    "# To practise, replace it with your own, written from the docstring.",
)
MAX_LINE = 110  # the reference's line length: a longer `raise` line is wrapped


def clear_solutions(draft):
    """Pipeline step: every block with a region in it gets that region rewritten."""
    return replace(draft, modules=tuple(rewrite_regions(module, _stub_lines) for module in draft.modules))


def not_implemented_message(region) -> str:
    """What the stub raises: the method to write and what it does, e.g. 'implement Adagrad.adagrad: one ...'."""
    summary = region.summary
    if summary[:1].isupper() and summary[1:2].islower():  # "One AdaGrad update" -> "one ...", keep "RMSprop"
        summary = summary[0].lower() + summary[1:]
    return f"implement {region.qualname}" + (f": {summary}" if summary else "")


def _stub_lines(region, lines):
    """The lines that take the place of the region's lines (markers included)."""
    if region.qualname in BONUS:
        name = region.qualname.split(".")[0]
        return [region.indent + note.format(name=name) for note in BONUS_NOTE] + lines[1:-1]
    message = not_implemented_message(region)
    literal = f'"{message}"' if '"' not in message and "\\" not in message else repr(message)
    raise_line = f"{region.indent}raise NotImplementedError({literal})"
    if len(raise_line) <= MAX_LINE:
        return [region.indent + TODO, raise_line]
    wrapped = [f"{region.indent}raise NotImplementedError(", f"{region.indent}    {literal}", f"{region.indent})"]
    return [region.indent + TODO] + wrapped
