"""The one error the generator raises: it says which file and line to fix, and how."""

from pathlib import Path

from grader.errors import OptimkitError


class AssignmentError(OptimkitError, ValueError):
    """A reference file (or a request) the generator cannot turn into an assignment.

    `path` and `line` say where to look (`line` is None when the problem is not on one line); the
    message starts with `path:line:` so that editors and terminals can jump there.
    """

    def __init__(self, path: "Path | str | None", line: "int | None", message: str):
        self.path = None if path is None else Path(path)
        self.line = line
        shown = None if path is None else _relative(Path(path))
        where = "" if path is None else f"{shown}:{line}: " if line is not None else f"{shown}: "
        super().__init__(f"{where}{message}")


def _relative(path):
    """The path from the working folder when it lies inside it (shorter, and what an editor opens)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path
