"""One import list for the one-file student module: every module's imports, merged.

Package-relative imports (`from .framework import Op`) are dropped: the names they bring in are
defined in the same file. They must import names, not modules (`from . import settings` would leave
`settings.X` dangling in the joined file). Absolute imports are merged (`from x import a` and `from x
import b` become `from x import a, b`), standard library first, then the rest, each group sorted.
"""

import ast
import sys
from dataclasses import replace

from .errors import AssignmentError

# The standard library's top-level modules (Python >= 3.10 lists them; before that, the ones we use).
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ("__future__", "dataclasses", "math", "pathlib", "sys")))


def merge_imports(draft):
    """Pipeline step: `draft.imports` becomes the merged import lines of all modules."""
    plain = set()  # (module, alias)
    from_names = {}  # module -> {(name, alias)}
    bound = {}  # name bound in the joined file -> (what binds it, path, line)
    for module in draft.modules:
        for node in module.imports:
            if isinstance(node, ast.ImportFrom) and node.level:
                _check_relative(module, node)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    plain.add((alias.name, alias.asname))
                    name = alias.asname or alias.name.split(".")[0]
                    _bind(bound, name, f"import {alias.name}", module.path, node.lineno)
            else:
                for alias in node.names:
                    from_names.setdefault(node.module, set()).add((alias.name, alias.asname))
                    _bind(
                        bound,
                        alias.asname or alias.name,
                        f"from {node.module} import {alias.name}",
                        module.path,
                        node.lineno,
                    )
    _check_against_definitions(draft.modules, bound)

    def group(module_name):
        return 0 if module_name == "__future__" else 1 if module_name.split(".")[0] in _STDLIB else 2

    lines = [(group(name), 0, name, f"import {name}" + (f" as {alias}" if alias else "")) for name, alias in plain]
    for name, names in from_names.items():
        listed = ", ".join(n + (f" as {alias}" if alias else "") for n, alias in sorted(names, key=_alias_order))
        lines.append((group(name), 1, name, f"from {name} import {listed}"))
    merged, previous = [], None
    for kind, _, _, line in sorted(lines):
        if previous is not None and kind != previous:
            merged.append("")  # a blank line between the groups, as isort does
        merged.append(line)
        previous = kind
    return replace(draft, imports=tuple(merged))


def relative_imports(module):
    """(target module name, imported name, line) for each `from .x import name` of the module."""
    package = module.name.split("/")[:-1]
    found = []
    for node in module.imports:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]  # each dot past the first goes up a package
            target = "/".join(base + node.module.split("."))
            found += [(target, alias.name, node.lineno) for alias in node.names]
    return found


def _alias_order(name_and_alias):
    name, alias = name_and_alias
    return name, alias or ""


def _check_relative(module, node):
    dots = "." * node.level
    if node.module is None:
        listed = ", ".join(alias.name for alias in node.names)
        raise AssignmentError(
            module.path,
            node.lineno,
            f"'from {dots} import {listed}' imports a module, which the one-file student "
            f"module cannot have: import the names you use instead ('from {dots}{node.names[0].name} import ...')",
        )
    if any(alias.asname for alias in node.names):
        raise AssignmentError(
            module.path,
            node.lineno,
            "a package-relative import with 'as' renames a name that the joined student "
            "file defines under its own name: import it without 'as'",
        )


def _bind(bound, name, what, path, line):
    if name in bound and bound[name][0] != what:
        first = bound[name]
        raise AssignmentError(
            path,
            line,
            f"'{what}' binds {name!r}, which '{first[0]}' at {first[1]}:{first[2]} binds differently; "
            "in the one-file student module they would clash",
        )
    bound.setdefault(name, (what, path, line))


def _check_against_definitions(modules, bound):
    for module in modules:
        for block in module.blocks:
            for name in block.names:
                if name in bound:
                    what, path, line = bound[name]
                    raise AssignmentError(
                        module.path,
                        block.node.lineno,
                        f"{name!r} is defined here and imported by '{what}' at "
                        f"{path}:{line}; in the one-file student module one would shadow the other",
                    )
