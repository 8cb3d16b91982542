"""Is a result current? A result's fingerprint, and the runs on which the hard deadline ended a submission.

A rerun of the batch skips a student whose result was made from the same file by the same grader (version,
rubric, seed, devices) in the same language (`--lang`: a result's verdicts are words); a submission the hard deadline ended is graded again, until it has been ended on
STOPS_THAT_STAND runs in a row. Trusted side: reads results and the submission's bytes, never runs them.
"""

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from grader.inputs.submission import SubmissionError, read_bytes

from .. import __version__, i18n

#: Runs on which the hard deadline must end the same submission before its result stands: the first time
#: it is said and the submission is graded again on the next run (a busy machine may have caused it).
STOPS_THAT_STAND = 2


def fingerprint(settings, devices, language=None):
    """What a result depends on besides the submission itself; a change means: grade again.

    language: the verdicts' (default: the language this process speaks). English adds nothing, so that the
    fingerprints of results graded before there was a choice of language stay what they were."""
    rubric = Path(settings.rubric_path).read_bytes()
    language = i18n.language() if language is None else language
    facts = [__version__, hashlib.sha256(rubric).hexdigest(), settings.seed, list(devices)]
    text = json.dumps(facts if language == i18n.DEFAULT else [*facts, language])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _file_sha256(path):
    """The hash of the submission's bytes, read as grading reads them; None if it cannot be read."""
    try:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except SubmissionError:  # a pipe, a device, too large: not current, so grading says why
        return None


def is_current(result_path, entry, stamp):
    """True if `result_path` holds a complete result for this very submission under this grader."""
    try:
        data = json.loads(result_path.read_text(encoding="utf-8"))
        extra = data["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if extra.get("fingerprint") != stamp:
        return False
    stopped = extra.get("stopped")
    if isinstance(stopped, dict) and isinstance(stopped.get("times"), int) and stopped["times"] >= STOPS_THAT_STAND:
        digest = None if entry.path is None else _file_sha256(entry.path)
        return digest is not None and extra.get("sha256") == digest
    if stopped or extra.get("status") == "timeout":  # not a verdict on the code: a busy machine may have caused it
        return False
    if entry.path is None:
        return extra.get("status") == "error" and extra.get("submission") == entry.error
    digest = _file_sha256(entry.path)
    return digest is not None and extra.get("sha256") == digest


def counted_stop(report, results_dir, entry, stamp):
    """`report` (stamped) of a submission the hard deadline ended, with the runs in a row it has been ended
    on, this one included (see STOPS_THAT_STAND), and its file's hash if it was ended before reading it."""
    sha256 = report.sha256 or _file_sha256(entry.path) or ""
    times = _times_stopped(results_dir, entry, stamp, sha256) + 1
    return replace(report, sha256=sha256, stopped={**report.stopped, "times": times})


def _times_stopped(results_dir, entry, stamp, sha256):
    """How many runs before this one the hard deadline ended on this very submission (same file, same
    grader)."""
    try:
        extra = json.loads((results_dir / f"{entry.student}.json").read_text(encoding="utf-8"))["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    stopped = extra.get("stopped") if isinstance(extra, dict) else None
    if not (isinstance(stopped, dict) and extra.get("fingerprint") == stamp and extra.get("sha256") == sha256):
        return 0
    times = stopped.get("times")
    return times if isinstance(times, int) else 0
