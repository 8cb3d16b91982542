"""Which solution regions students write, and which the stub keeps as an optional bonus.

Every region the reference marks is blanked in the stub unless its function is listed in BONUS. Every
function in EXERCISES (grader/judge/parts.py) must have a region: a forgotten marker would hand out the solution, so it is an
error naming the function's `def` line.
"""

from grader.judge.parts import BONUS, EXERCISES  # the one registry of parts says which are which

from .docstrings import summary
from .errors import AssignmentError

# EXERCISES are blanked in the stub; students must write them (the rubric grades these parts). BONUS is
# marked in the reference but kept complete in the stub: optional practice, and the 3D experiment runs
# Nesterov, so the stub's experiments need it working.


def check_exercises(draft):
    """Pipeline step: every exercise has exactly one region, and bonus regions exist where listed."""
    regions = [region for module in draft.modules for region in module.regions]
    for qualname in EXERCISES + BONUS:
        found = [region for region in regions if region.qualname == qualname]
        if len(found) > 1:
            raise AssignmentError(
                found[1].path, found[1].begin, f"{qualname} has {len(found)} solution regions; mark its body once"
            )
        if not found:
            where = _definition(draft.modules, qualname)
            raise AssignmentError(
                *where,
                f"{qualname} is an exercise (see grader/judge/parts.py) but has no "
                "'# BEGIN SOLUTION' / '# END SOLUTION' region: the stub would give its solution away",
            )
    return draft


def _definition(modules, qualname):
    """(path, line) of the `def` of `Class.method` in the reference, or (first module, None)."""
    class_name, _, method = qualname.rpartition(".")
    for module in modules:
        for block in module.blocks:
            if (class_name or method) in block.names:
                for node in getattr(block.node, "body", []):
                    if getattr(node, "name", None) == method:
                        return module.path, node.lineno
                return module.path, block.node.lineno
    return (modules[0].path if modules else None), None


def blanks(draft) -> list:
    """(qualname, summary) of each exercise region found, in file order: what the stub asks for.

    The summary is in the language the process speaks (the first line of the translated docstring).
    """
    return [(region.qualname, summary(region)) for region in draft.regions if region.qualname in EXERCISES]


def bonuses(draft) -> list:
    """The qualnames of the bonus regions found (kept complete in the stub)."""
    return [region.qualname for region in draft.regions if region.qualname in BONUS]
