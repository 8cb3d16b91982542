"""Messages of the mistake bank for the catalogs: each `known(...)` entry's title and hint.

The bank's data files (grader/explain/mistakes/*.py) declare entries as plain arguments of `known`, not
marked `_()`, so Babel's keywords do not find them; this reads them from the syntax tree. Its
`messages(relative, text)` is one of tools/catalogs.py's EXTRACTORS.

Only string constants are taken (a literal, or adjacent literals that Python joins into one): a title or a
hint computed at run time could not be looked up by its text, and the bank's test holds that there is none.
"""

import ast
from collections.abc import Iterator

#: Where the bank's data files are, relative to the project's root.
BANK_FOLDER = "grader/explain/mistakes/"
#: The positions of the title and the hint among `known(rule, slug, title, hint, body)`'s arguments.
TEXT_ARGUMENTS = (2, 3)


def _is_known(call: ast.Call) -> bool:
    """Is `call` a call of the bank's constructor (`known(...)`, or `mistake.known(...)`)?"""
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr == "known"
    return isinstance(function, ast.Name) and function.id == "known"


def messages(relative: str, text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, message, comments) of every title and hint declared in the source `text` at `relative`."""
    if not relative.startswith(BANK_FOLDER):
        return
    for node in ast.walk(ast.parse(text, filename=relative)):
        if not (isinstance(node, ast.Call) and _is_known(node)):
            continue
        for position in TEXT_ARGUMENTS:
            if position < len(node.args):
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value:
                    yield argument.lineno, argument.value, []
