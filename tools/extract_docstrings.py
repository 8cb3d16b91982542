"""Messages of the assignment's instructions for the catalogs: the docstrings students read in the stub.

The stub and the notebook are generated from the reference's docstrings (reference/), which are not
marked `_()`; this reads them from the syntax tree. Its `messages(relative, text)` is one of
tools/catalogs.py's EXTRACTORS.

The units are those the generator translates (grader/assignment/docstrings.py): the docstring of every
class and function, cleaned as `ast.get_docstring` cleans it, of each reference module the assignment's
outline places in the student file. A module's own docstring is not a unit: the student file leaves it out.
"""

import ast
from collections.abc import Iterator

from grader.assignment.docstrings import docstrings
from grader.assignment.outline import reference_modules

#: Translators' note on every docstring: what must stay as it is.
NOTE = (
    "A docstring of the student file (optimizers.py): keep every formula, identifier and code span as it is, "
    "and the line breaks of the formulas."
)


def messages(relative: str, text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, message, comments) of every docstring students read, declared in the source `text` at `relative`."""
    if relative not in {f"reference/{name}.py" for name in reference_modules()}:
        return
    for statement, docstring in docstrings(ast.parse(text)):
        yield statement.lineno, docstring, [NOTE]
