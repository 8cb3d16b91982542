"""The generator as a pipeline: each step takes a Draft and returns a new one; then each output is
rendered from the final Draft.

Ordering constraints:
- `find_regions` reads marker lines by their line numbers in the file, so it runs before any step
  that changes a line (`clear_solutions` / `keep_solutions`);
- `check_exercises` needs the regions; the solution step needs them checked;
- `translate_docstrings` parses each block as the solution step left it, so it runs after that step;
- `arrange` copies the final lines into cells, so it runs after the solution step, and it takes the
  imports cell from `merge_imports`.
"""

import importlib.util
from pathlib import Path

from ..atomic import PRIVATE, write_atomic
from .arrange import arrange
from .clear_solutions import clear_solutions
from .docstrings import translate_docstrings
from .draft import Draft
from .errors import AssignmentError
from .exercises import check_exercises
from .imports import merge_imports
from .keep_solutions import keep_solutions
from .markers import find_regions
from .outline import OUTLINE
from .script import render_script
from .source import read_reference
from .top_level import check_top_level

#: The student version: the exercises' bodies blanked.
STUB_STEPS = (
    read_reference,  # the modules the outline uses, parsed into imports and top-level blocks
    check_top_level,  # only definitions at their top level, no name defined twice
    merge_imports,  # one import list; package-relative imports dropped
    find_regions,  # the BEGIN/END SOLUTION regions, validated, on the files' own line numbers
    check_exercises,  # every exercise has its region
    clear_solutions,  # each exercise's region becomes `raise NotImplementedError(...)`
    translate_docstrings,  # the docstrings in the language spoken (English: untouched)
    arrange,  # the blocks placed into the outline's sections
)
#: The instructors' version: the same, with every solution kept (only the markers go).
SOLUTION_STEPS = tuple(keep_solutions if step is clear_solutions else step for step in STUB_STEPS)


def render_notebook(draft):
    from .notebook import render_notebook as render  # noqa: PLC0415 -- nbformat (0.15 s) only when a notebook is made

    return render(draft)


#: The files written, and how each is rendered.
OUTPUTS = (("optimizers.py", render_script), ("optimizers.ipynb", render_notebook))

#: Where each version goes by default. The solution never goes where students look.
DEFAULT_OUT = Path("assignments")
DEFAULT_SOLUTION_OUT = Path("solutions")


def build_assignment(
    *, solution: bool = False, reference: "Path | None" = None, outline: tuple = OUTLINE, files: "tuple | None" = None
) -> dict:
    """{file name: text} of the assignment (or, with `solution`, of its solution), built in memory.

    files: the names to render (default: every one of OUTPUTS).
    """
    draft = Draft(reference=Path(reference) if reference else reference_folder(), solution=solution, outline=outline)
    for step in SOLUTION_STEPS if solution else STUB_STEPS:
        draft = step(draft)
    return {name: render(draft) for name, render in OUTPUTS if files is None or name in files}


def write_assignments(out: "Path | None" = None, *, solution: bool = False, reference: "Path | None" = None) -> list:
    """Write the assignment's files into `out` (default: assignments/, or solutions/ with `solution`).

    Refuses to write the solution into an `assignments` folder, which is what students receive, and
    writes it readable by its owner only (a new folder 0700, the files 0600).
    Each file is written under a temporary name and renamed, so a failure never leaves half a file.
    Returns the paths written.
    """
    out = Path(out) if out is not None else DEFAULT_SOLUTION_OUT if solution else DEFAULT_OUT
    if solution and _is_students_folder(out):
        raise AssignmentError(
            out,
            None,
            "refusing to write the solution into the folder students receive; "
            f"choose another folder with --out (the default for --solution is {DEFAULT_SOLUTION_OUT}/)",
        )
    files = build_assignment(solution=solution, reference=reference)  # everything is built before writing
    # The solution is the answer key: only its owner may read it. A new folder is made 0700; one that
    # exists keeps its mode (it may be shared on purpose), and the files themselves are 0600 from the
    # moment they are created, so no other user can read them either way.
    out.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(mode=0o700 if solution else 0o777, exist_ok=True)
    return [write_atomic(out / name, text, PRIVATE if solution else 0o666) for name, text in files.items()]


def reference_folder() -> Path:
    """The folder of the installed `reference` package, found without importing it (and torch)."""
    spec = importlib.util.find_spec("reference")
    if spec is None or spec.origin is None:
        raise AssignmentError(None, None, "the reference package is not installed: run `pip install -e .`")
    return Path(spec.origin).parent


def _is_students_folder(out):
    resolved = out.resolve()
    students = (reference_folder().parent / DEFAULT_OUT).resolve()
    return resolved.name == DEFAULT_OUT.name or resolved == students or students in resolved.parents
