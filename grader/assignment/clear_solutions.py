"""Stub step: replace each exercise's solution region with a `raise NotImplementedError` naming it.

The docstring above the region (which writes out the update rule) stays; so does everything outside
the regions. A bonus region keeps its solution, its markers turned into a comment saying it is optional.
Must run after `find_regions` (it needs the file's own line numbers) and before `arrange`. The comments
and the message it writes are in the language the process speaks.
"""

import unicodedata
from dataclasses import replace

from grader import i18n
from grader.i18n import N_, _

from .docstrings import summary as translated_summary
from .exercises import BONUS
from .markers import rewrite_regions

# Translators: a Python comment in the stub, above `raise NotImplementedError(...)`; keep the leading "# ".
TODO = N_("# YOUR CODE HERE: the update rule is in the docstring above. Then delete the raise below.")
BONUS_NOTE = (
    # Translators: two Python comments above the bonus's given body; keep each leading "# ".
    N_("# Bonus (optional): this body is given, so that the experiments can run {name}."),
    N_("# To practise, replace it with your own, written from the docstring."),
)
MAX_LINE = 110  # the reference's line length (in columns): a longer `raise` line is wrapped


def clear_solutions(draft):
    """Pipeline step: every block with a region in it gets that region rewritten."""
    return replace(draft, modules=tuple(rewrite_regions(module, _stub_lines) for module in draft.modules))


def not_implemented_message(region) -> str:
    """What the stub raises: the method to write and what it does, e.g. 'implement Adagrad.adagrad: one ...'."""
    summary = region.summary if i18n.language() == i18n.DEFAULT else translated_summary(region)
    # English: "One AdaGrad update" -> "one ...", keep "RMSprop"
    if summary == region.summary and summary[:1].isupper() and summary[1:2].islower():
        summary = summary[0].lower() + summary[1:]
    if not summary:
        # Translators: what the stub raises (NotImplementedError) until the method {qualname} is written.
        return _("implement {qualname}").format(qualname=region.qualname)
    # Translators: what the stub raises until {qualname} is written; {summary} is its docstring's first line.
    return _("implement {qualname}: {summary}").format(qualname=region.qualname, summary=summary)


def _stub_lines(region, lines):
    """The lines that take the place of the region's lines (markers included)."""
    if region.qualname in BONUS:
        name = region.qualname.split(".")[0]
        return [region.indent + _(note).format(name=name) for note in BONUS_NOTE] + lines[1:-1]
    message = not_implemented_message(region)
    literal = f'"{message}"' if '"' not in message and "\\" not in message else repr(message)
    raise_line = f"{region.indent}raise NotImplementedError({literal})"
    if _width(raise_line) <= MAX_LINE:
        return [region.indent + _(TODO), raise_line]
    wrapped = [f"{region.indent}raise NotImplementedError(", f"{region.indent}    {literal}", f"{region.indent})"]
    return [region.indent + _(TODO)] + wrapped


def _width(line):
    """The columns a line takes in an editor: a Chinese character takes two (the same as len() for ASCII)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)
