"""The joined student module must import cheaply and without side effects, and define each name once.

So a module's top level may hold only definitions: classes, functions and assignments (constants).
A call, a loop or an `if __name__ == "__main__"` block would run (or be pasted) into the student's
file; a name defined in two modules would silently take the later definition once they are joined.
"""

import ast

from .errors import AssignmentError

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def check_top_level(draft):
    """Pipeline step: only definitions at the top level, and no name defined twice across modules."""
    defined = {}  # name -> (path, line)
    for module in draft.modules:
        for block in module.blocks:
            node = block.node
            if not isinstance(node, _DEFINITIONS):
                raise AssignmentError(
                    module.path,
                    node.lineno,
                    f"a top-level {type(node).__name__} statement would run when students "
                    "import their file: only classes, functions and constants may stand at the top level",
                )
            for name in block.names:
                if name in defined:
                    path, line = defined[name]
                    raise AssignmentError(
                        module.path,
                        node.lineno,
                        f"{name!r} is already defined at {path}:{line}; in the one-file "
                        "student module the later definition would replace the first: give one another name",
                    )
                defined[name] = (module.path, node.lineno)
    return draft
