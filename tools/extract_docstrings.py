"""Messages of the assignment's instructions for the catalogs: the docstrings students read in the stub.

The stub and the notebook are generated from the reference's docstrings (reference/), which are not
marked `_()`; this reads them from the syntax tree. Its `messages(relative, text)` is one of
tools/catalogs.py's EXTRACTORS.

The units are those the generator translates (grader/assignment/docstrings.py): the docstring of every
class and function, cleaned as `ast.get_docstring` cleans it, and every run of whole-line comments, of
each reference module the assignment's outline places in the student file. A module's own docstring and
the comments above its imports are not units: the student file leaves them out.
"""

import ast
from collections.abc import Iterator

from grader.assignment.docstrings import comments, docstrings
from grader.assignment.outline import reference_modules

#: Translators' note on every docstring: what must stay as it is.
NOTE = (
    "A docstring of the student file (optimizers.py): keep every formula, identifier and code span as it is, "
    "and the line breaks of the formulas."
)

#: Translators' note on every comment: its lines become lines of `# ` comments again.
COMMENT_NOTE = (
    "A comment of the student file (optimizers.py), one line per line of the comment: keep identifiers and "
    "code as they are."
)


def messages(relative: str, text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, message, comments) of every docstring students read, declared in the source `text` at `relative`."""
    if relative not in {f"reference/{name}.py" for name in reference_modules()}:
        return
    tree = ast.parse(text)
    for statement, docstring in docstrings(tree):
        yield statement.lineno, docstring, [NOTE]
    imports = [node.end_lineno or node.lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    for first, _last, _column, _prefix, comment in comments(text):
        if first > max(imports, default=0):
            yield first, comment, [COMMENT_NOTE]
