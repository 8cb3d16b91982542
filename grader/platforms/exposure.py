"""Trusted side: before a platform grades anything, can the sandbox's user read the answers?

Where namespaces are refused, what student code can read is decided by Landlock (level "landlock") or,
without it, by the files' modes (level "reduced"): a project checkout beside the submission, a copy of
the kit's wheel or its installed `reference` package left readable to every user hands the answers to
any submission. So a platform run asks first: a sandbox, built exactly as a submission's is, runs a
probe of ours (no student code has run in it) that tries to open each file that holds the answers and
names those it could open. Any: the run refuses to grade (set OPTIMKIT_ALLOW_READABLE_ANSWERS=1 to grade
anyway, with the warning at the top of every result).
"""

import importlib.util
import json
import os
from pathlib import Path

from grader.errors import ExitCode, OptimkitError
from grader.sandbox.client import Sandbox

ALLOW_VARIABLE = "OPTIMKIT_ALLOW_READABLE_ANSWERS"
_MARK = "OPTIMKIT-READABLE:"
_PROBE = """
def _optimkit_probe(paths):
    readable = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                file.read(1)
            readable.append(path)
        except OSError:
            pass
    if readable:
        raise RuntimeError(MARK + json.dumps(readable))
    return 0


import json
MARK = {mark!r}
probe = _optimkit_probe({paths!r})
"""


class AnswersReadable(OptimkitError, RuntimeError):
    """The sandbox's user can read files that hold the answers; grading would hand them out. The platform's
    run refuses to grade: its results file says why and it ends with GRADER_FAILED."""

    exit_code = ExitCode.GRADER_FAILED


def answer_files(settings_folder=None):
    """Files that hold the answers: the `reference` package's modules (installed or in a checkout), the
    checkout's own copy beside the grader, and the kit's wheels and rubric in the platform's folder."""
    found = []
    spec = importlib.util.find_spec("reference")
    folders = list(spec.submodule_search_locations or []) if spec else []
    folders.append(str(Path(__file__).resolve().parents[2] / "reference"))
    for folder in folders:
        found += sorted(str(path) for path in Path(folder).glob("*.py"))[:20]
    if settings_folder is not None:
        found += sorted(str(path) for path in Path(settings_folder).glob("optimkit-*.whl"))
    return sorted({os.path.realpath(path) for path in found if os.path.isfile(path)})


def readable_answers(zygote, paths):
    """The paths among `paths` that a fresh sandbox of `zygote` can open (see the module's docstring)."""
    source = _PROBE.format(mark=_MARK, paths=list(paths))
    with Sandbox(
        zygote, [{"label": "probe", "filename": "<optimkit exposure probe>", "source": source}], load_seconds=30.0
    ) as sandbox:
        errors = sandbox.load_report["errors"]
    for error in errors:
        message = error["message"]
        if _MARK in message:
            return json.loads(message.split(_MARK, 1)[1])
    return []


def check(zygote, settings_folder=None):
    """Raise AnswersReadable when the sandbox can read the answers (and the instructor did not allow it);
    a warning to show with every result when allowed; None when nothing is readable. With full isolation
    the sandbox's root holds no answers: no probe is needed."""
    if (getattr(zygote, "isolation", None) or {}).get("level") == "full":
        return None
    readable = readable_answers(zygote, answer_files(settings_folder))
    if not readable:
        return None
    listing = ", ".join(readable[:5]) + (f" and {len(readable) - 5} more" if len(readable) > 5 else "")
    message = (
        f"student code here could read the answers ({listing}): isolation is "
        f"{zygote.isolation['level']}, so what the sandbox may read is what the files' modes allow. Make "
        "them root's alone (python -m grader.platforms.protect FOLDER), or use a kernel with Landlock"
    )
    if os.environ.get(ALLOW_VARIABLE) == "1":
        return f"WARNING: {message}. Graded anyway ({ALLOW_VARIABLE}=1): scores here may be stolen."
    raise AnswersReadable(f"{message}; this run refuses to grade ({ALLOW_VARIABLE}=1 grades anyway)")
