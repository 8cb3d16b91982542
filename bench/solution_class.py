"""The class the batch benchmarks grade: N copies of the solution, each a file of its own (a comment
line makes each file unique, as students' files are)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_class(folder, students):
    """Write `students` copies of the solution into `folder`/class; return that folder."""
    folder = Path(folder)
    subprocess.run(
        [sys.executable, "-m", "grader", "assign", "--solution", "--out", str(folder / "solution")],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    source = (folder / "solution" / "optimizers.py").read_text()
    submissions = folder / "class"
    submissions.mkdir()
    for index in range(students):
        (submissions / f"student{index:03}.py").write_text(f"{source}\n# student {index}\n")
    return submissions
