"""Find the students in a submissions folder: a plain folder, or an LMS export as it was extracted.

`discover(folder)` returns one `Entry` per student: a safe, unique id, a display name, the one `.py` or
`.ipynb` file to grade, or the reason there is none. It only lists folders and reads Gradescope's
metadata (and a Moodle grading worksheet saved beside a Moodle download); it never writes, renames or
runs anything, so the input folder is left exactly as it was.
Hidden files and folders (a leading `.`), `__pycache__`, `.ipynb_checkpoints`, `__MACOSX` (macOS zip
residue) and symbolic links (an extracted archive must not point the grader at files elsewhere) are
ignored everywhere. A student's gradable file must be a regular file of at most 5 MB: a named pipe,
a device or a socket by that name (an extracted tar can hold them), or a larger file, makes that
student an entry with an error, and is never opened (see `grader.inputs.regular_files`).

Layouts
-------
A folder that holds `submission_metadata.yml` is a Gradescope export. Otherwise each top-level item is
recognised on its own, so a plain folder can hold a few LMS-named files or folders too:

plain
    Each `.py` / `.ipynb` file directly in the folder is a student, named by its stem
    (`alice_nguyen.py` -> `alice_nguyen`). Each sub-folder is a student named by the folder
    (`dana/optimizers.py` -> `dana`); its one gradable file is searched for at any depth. Other files at
    the top (`README.md`, `grades.csv`) are ignored.
canvas
    "Download Submissions" writes `{name}_{userid}_{submissionid}_{filename}`, with `LATE_` before the
    user id for a late submission and `-1`, `-2` before the suffix of a repeated file name:
    `smithjane_4821_99017_optimizers.py`, `doejohn_LATE_4822_99018_optimizers-1.ipynb`.
    The id is `{name}_{userid}` (`smithjane_4821`): the user id is what a gradebook import matches on,
    the name keeps it readable. The display name is Canvas's `smithjane`. The name is Canvas's sortable
    name stripped to word characters, in any script (`müllerjosé_4821` -> `mullerjose_4821`; just `4822`
    when nothing of it survives, as for `王小明`). An anonymous download (`anon_k3Lq9_99019_...`, or
    `LATE_anon_...`) is the student `anon_k3Lq9`. A text entry or a website URL (`smithjane_4821_text.html`,
    `..._link.html`) is never graded: a student with only that gets an error entry that says so.
moodle
    "Download all submissions" writes a folder per student and plugin,
    `{Full Name}_{participantid}_assignsubmission_file_/optimizers.py` (and
    `..._assignsubmission_onlinetext_/onlinetext.html`), or, without "in folders", the files themselves
    as `Jane Smith_104233_assignsubmission_file_optimizers.py`. A group submission is named
    `{group name}_{group id}` instead; it is read as a group, with its members, when Moodle's grading
    worksheet (a `.csv` with `Identifier` and `Group` columns) lies in the folder too. Only the file plugin's items are
    searched; a student with online text only gets an error entry. The id is the name, folded to
    lowercase ASCII, and the participant id: `jane_smith_104233` (just `104233` when nothing of the
    name survives, as for `王小明`). The display name is the full name.
gradescope
    "Export Submissions" writes `submission_metadata.yml` and a folder `submission_<id>/` per
    submission. The metadata maps `submission_<id>` to `{":submitters": [{":name": ..., ":sid": ...,
    ":email": ...}], ...}` (Ruby symbols, so every key starts with a colon). The id is the first
    submitter's sid (`20231187`), else the local part of their email (`jane.smith`), else the folder
    name. A group submission is one entry, its display name listing every submitter
    ("Jane Smith, Bob Lee"), its members the submitters (the class outputs give each a row).
    The metadata is read within bounds (see `gradescope._read_metadata`): a regular file of at most 32 MB, no YAML
    aliases (a real export has none; a few lines of them can expand to gigabytes), bounded nesting and
    number of values.

Ids
---
Every id is a safe file name (`OUT/results/<student>.json`): ASCII letters, digits, `-`, `_` and `.`,
not starting with `.`, at most 100 characters. Accents are folded (`José` -> `Jose`), every run of
other characters becomes `_`, Windows device names (`con`, `nul`, ...) get a trailing `_`, and a name
with nothing left is replaced by `student-` and a hash of it. Ids are unique ignoring case (a
case-insensitive disk would merge `Alice.json` and `alice.json`): the second of two equal ids, in the
order of the items' paths, becomes `<id>-2`, the third `<id>-3`. The same folder always gives the same
entries, sorted by id.

Modules
-------
Here `discover` picks the layout; `plain_canvas_moodle` recognises the top-level items one by one,
`gradescope` reads an export's metadata within bounds, and `entries` turns what was found into entries
(ids made safe and unique, the one gradable file chosen). The public names are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

from .entries import LAYOUTS, DiscoveryError, Entry, Member, _unique, safe_id
from .entries import MAX_ID_LENGTH as MAX_ID_LENGTH  # re-exported: tests name it here
from .gradescope import GRADESCOPE_METADATA, _gradescope
from .gradescope import MAX_GROUP as MAX_GROUP  # re-exported: grader.outputs.members caps a group's rows with it
from .gradescope import MAX_METADATA_BYTES as MAX_METADATA_BYTES  # re-exported: tests name it here
from .plain_canvas_moodle import _canvas_moodle_plain

__all__ = ["LAYOUTS", "DiscoveryError", "Entry", "Member", "discover", "safe_id"]


def discover(folder: Path | str) -> list[Entry]:
    """Every student in `folder` (plain, Canvas, Moodle or Gradescope layout), sorted by id.

    Raises NotADirectoryError when `folder` is not a folder, and DiscoveryError when a Gradescope
    export's metadata cannot be read. A student without exactly one gradable file is an entry with an
    `error`, never an exception.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder (expected a folder of submissions)")
    gradescope = os.path.lexists(
        folder / GRADESCOPE_METADATA
    )  # whatever it is: `_read_metadata` refuses all but a file
    return _unique(_gradescope(folder) if gradescope else _canvas_moodle_plain(folder))
