"""What to say when the batch is given something other than a folder of submissions.

An instructor's first try is often the zip the LMS downloaded (given as the folder, or left unextracted
inside it) or an empty folder. Each gets one line that says what was expected and how to get there,
rather than a traceback or an empty gradebook. Archives are never extracted here: a zip can hold paths
outside the folder and any amount of data, and `unzip` already says what it does.
"""

from __future__ import annotations

from pathlib import Path

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".7z", ".rar")
EXPECTED = (
    ".py or .ipynb files, a folder per student, or an extracted Canvas, Moodle or Gradescope "
    "export (submission_metadata.yml and submission_<id>/ folders)"
)


def _archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _extract_hint(archive: Path) -> str:
    target = archive.with_name(archive.name.split(".")[0] + "_extracted")
    return f"extract it first (e.g. `unzip '{archive}' -d '{target}'`) and give that folder"


def not_a_folder(path: Path) -> str:
    """Why `path` cannot be graded as a class: an archive, a missing path, or some other file."""
    if _archive(path) and path.is_file():
        return f"{path} is an archive, not a folder: {_extract_hint(path)}"
    if not path.exists():
        return f"{path}: no such folder (expected a folder of submissions: {EXPECTED})"
    return f"{path}: not a folder (expected a folder of submissions: {EXPECTED})"


def nothing_found(folder: Path) -> str:
    """Why discovery found no student in `folder`: empty, only archives, or only other files."""
    try:
        visible = sorted(child for child in folder.iterdir() if not child.name.startswith("."))
    except OSError as error:
        return f"{folder}: cannot be read: {error.strerror or error}"
    archives = [child for child in visible if _archive(child) and child.is_file()]
    if archives and len(archives) == len(visible):
        return (
            f"{folder} holds only {archives[0].name}"
            + (f" and {len(archives) - 1} more archive(s)" if len(archives) > 1 else "")
            + f", no submissions: {_extract_hint(archives[0])}"
        )
    if not visible:
        return f"{folder} is empty: expected {EXPECTED}"
    shown = ", ".join(child.name for child in visible[:5]) + (", ..." if len(visible) > 5 else "")
    return f"{folder} holds no submissions (only {shown}): expected {EXPECTED}"
