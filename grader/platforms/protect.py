"""Keep the answers away from student code on a platform's machine: `python -m grader.platforms.protect
[FOLDER...]` (run as root by setup.sh, the PrairieLearn image's build and each grading run).

Where the platform's container refuses the sandbox's namespaces, Landlock keeps student code to the
Python installation; on a kernel without Landlock it sees the whole file system (reduced isolation),
as a user of its own. So, either way, the folders that hold the kit's answers are made
root's alone: the installed `grader` and `reference` packages (the reference solution is the answer key)
and the folders given (the autograder's source folder, holding the kit's wheel). Gradescope's own advice
is the same: `chmod o= /autograder/source`.
"""

import importlib.util
import os
import sys
from pathlib import Path

KIT_PACKAGES = ("grader", "reference")


def installed_kit_folders():
    """The kit's package folders when it is installed from its wheel (site-packages beside its
    dist-info); none for a source checkout, whose files are the developer's to keep as they are."""
    folders = []
    for name in KIT_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(location).resolve()
            if any(folder.parent.glob("optimkit-*.dist-info")) and not (folder.parent / "pyproject.toml").exists():
                folders.append(folder)
    return folders


def protect(folders=()):
    """Make the installed kit and `folders` readable by their owner only (root); returns what changed."""
    changed = []
    for folder in [*installed_kit_folders(), *(Path(folder) for folder in folders)]:
        if folder.is_dir() and not folder.is_symlink():
            os.chmod(folder, 0o700)  # no one else may enter it, so nothing below it can be read
            changed.append(folder)
    return changed


def main(argv=None):
    for folder in protect(sys.argv[1:] if argv is None else argv):
        print(f"only its owner may enter {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
