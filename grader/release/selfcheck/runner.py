"""The pytest side's handle on the student's process (worker.py): start it, read its answers per part,
and give up on a part that hangs or crashes it, so that only that part fails.

The answers come back as JSON lines, read by a thread into a queue; nothing of the student's code is
imported here. Where the worker does not fork (Windows, macOS, or OPTIMKIT_SELFCHECK_SPAWN=1), a part that
hangs or kills the worker is failed, the worker killed, and a new one started for the parts left.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import i18n
from .i18n import _

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.json"
RUBRIC = HERE / "rubric.json"
LANGUAGE = HERE / "language.json"  # the release's language: {"language": "zh-CN"} (none: English)
SPAWN_VARIABLE = "OPTIMKIT_SELFCHECK_SPAWN"
LOAD_SECONDS = 180.0  # a cold `import torch` on a slow laptop, and the submission's definitions
# A part's deadline (the worker's too). Where the worker forks, it ends a part itself, and this side waits
# FORK_MARGIN longer; where it cannot, this side ends a part that hangs the worker.
PART_SECONDS = float(os.environ.get("OPTIMKIT_SELFCHECK_PART_SECONDS", "20"))
FORK_MARGIN = 10.0


def use_fork():
    """Fork where it is safe after `import torch`: Linux. Windows has no fork, and on macOS a fork after
    system frameworks have started may crash the child, so both start plain subprocesses instead."""
    return hasattr(os, "fork") and sys.platform.startswith("linux") and os.environ.get(SPAWN_VARIABLE, "") in ("", "0")


def speak_release_language():
    """Speak the language the release was written in (language.json beside this file); without the file
    (in the kit, or a bundle released before there was a choice: English), or with one this self-check
    cannot use, the language spoken so far. Returns the language spoken."""
    try:
        i18n.set_language(json.loads(LANGUAGE.read_text(encoding="utf-8"))["language"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return i18n.language()


class Outcome:
    """Per submission: how it loaded, and each part's answers or the reason it has none."""

    def __init__(self, parts):
        self.load = None  # {"errors": [...], "notes": [...]} or {"error": "..."}
        self.parts = {}  # part -> {"answers": ...} or {"error": "..."}
        self.done = threading.Event()
        self.ready = {part: threading.Event() for part in parts}

    def settle(self, part, result):
        if part in self.ready and part not in self.parts:
            self.parts[part] = result
            self.ready[part].set()

    def finish(self, reason):
        for part in self.ready:
            self.settle(part, {"error": reason})
        self.done.set()

    def wait(self, part):
        self.ready[part].wait()
        return self.parts[part]


def _start(submissions, parts, fork):
    handle, request = tempfile.mkstemp(prefix="selfcheck-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(
            {
                "cases": str(CASES),
                "submissions": [str(Path(s).resolve()) for s in submissions],
                "parts": parts,
                "fork": fork,
                "language": i18n.language(),
            },
            file,
        )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    errors = tempfile.TemporaryFile()  # noqa: SIM115 -- the worker's own errors: the cause when it ends abruptly
    # As a module of this package (grader/ in the bundle), from the folder that holds it: its imports are
    # the package's own, and no module of it shadows an installed one of the same name (Jupyter's notebook).
    process = subprocess.Popen(
        [sys.executable, "-m", f"{__package__}.worker", request],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=env,
        cwd=HERE.parent,
    )
    process.errors = errors
    lines = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines, request


def _stop(process, request):
    if process.poll() is None:
        process.kill()
    process.wait()
    process.errors.close()
    try:
        os.unlink(request)
    except OSError:
        pass


def _cause(errors):
    """': <the last line the worker wrote on its standard error>' (its exception, most often), or ''."""
    errors.seek(0, os.SEEK_END)
    errors.seek(max(0, errors.tell() - 4000))
    lines = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1][:500]
    if last.startswith("ModuleNotFoundError"):
        last += _(
            " (this Python, {python}, lacks a package the assignment needs: activate the assignment's "
            "environment, or install it as README.md says: python -m pip install -r requirements.txt)"
        ).format(python=sys.executable)
    return f": {last}"


def check(submissions, parts, fork=None):
    """Start checking `submissions` now, in the background; [Outcome] at once, filled as answers come."""
    fork = use_fork() if fork is None else fork
    outcomes = [Outcome(parts) for _submission in submissions]
    threading.Thread(target=_supervise, args=(submissions, parts, fork, outcomes), daemon=True).start()
    return outcomes


def _supervise(submissions, parts, fork, outcomes):
    if fork:  # the worker forks per submission and per part, and keeps its own deadlines
        _run(submissions, parts, fork, outcomes, list(range(len(submissions))))
        return
    for index, submission in enumerate(submissions):
        left = list(parts)
        while left and not outcomes[index].done.is_set():
            left = _run([submission], left, fork, outcomes, [index])


def _run(submissions, parts, fork, outcomes, indices):
    """One worker for `submissions`; returns the parts left to run when it had to be stopped."""
    process, lines, request = _start(submissions, parts, fork)
    current, position = None, 0
    part_seconds = PART_SECONDS + (FORK_MARGIN if fork else 0.0)
    deadline = time.monotonic() + LOAD_SECONDS * (1 if len(submissions) == 1 else 2)
    try:
        while position < len(indices):
            outcome = outcomes[indices[position]]
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = "timeout"
            if line is None or line == "timeout":
                timeout = line == "timeout"
                code, cause = (None, "") if timeout else (process.wait(), _cause(process.errors))
                if current is None:
                    outcome.finish(
                        _("the process loading the submission took too long")
                        if timeout
                        else _("the process loading the submission ended abruptly (exit code {code}){cause}").format(
                            code=code, cause=cause
                        )
                    )
                    position += 1
                    if fork or position >= len(indices):
                        for later in indices[position:]:
                            outcomes[later].finish(
                                _("the self-check's process took too long")
                                if timeout
                                else _("the self-check's process ended abruptly (exit code {code}){cause}").format(
                                    code=code, cause=cause
                                )
                            )
                        return []
                    return []
                outcome.settle(
                    current,
                    {
                        "error": _(
                            "the process running this part took too long (no answer within {seconds:g} s: "
                            "an endless loop?)"
                        ).format(seconds=part_seconds)
                        if timeout
                        else _(
                            "the process running this part ended abruptly (exit code {code}){cause}: a crash, "
                            "or os._exit in the submission"
                        ).format(code=code, cause=cause)
                    },
                )
                return [part for part in parts if part not in outcome.parts]
            message = json.loads(line)
            event = message.get("event")
            if event == "loaded":
                if outcome.load is None:
                    outcome.load = message
                if "error" in message:
                    outcome.finish(message["error"])
            elif event == "start":
                current, deadline = message["part"], time.monotonic() + part_seconds
            elif event == "part":
                outcome.settle(message["part"], message)
                current = None
            elif event == "done":
                outcome.finish(_("the self-check's process stopped before this part (a crash?)"))
                position += 1
                deadline = time.monotonic() + LOAD_SECONDS
        return []
    finally:
        _stop(process, request)
