"""Trusted side: start the warm worker process (the zygote) and ask it for sandboxes.

Standard library only: the grader starts the zygote before it imports torch itself, so that the two
imports (about 2 s each) overlap on two cores instead of adding up.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

_PROJECT_ROOT = str(Path(__file__).resolve().parents[1])

# Variables a worker may see; everything else (tokens, keys, the grader's own settings) stays out.
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "OPTIMKIT_WORKER_USER", "TMPDIR")


def grader_folders():
    """What student code must never read: the reference (the oracle), the grader, the project's tests
    and answer key, wherever this installation keeps them."""
    root = Path(_PROJECT_ROOT)
    return [root / name for name in ("reference", "grader", "tests", "solutions") if (root / name).is_dir()]


class Zygote:
    """The warm worker process. `fork(workdir, limits)` returns a connected socket and the child's pid.

    preload: modules the zygote imports before it forks anything, for runs that grade many submissions
    (notebooks import matplotlib.pyplot; paying for it once beats paying for it per student).
    """

    def __init__(self, hidden=None, preload=()):
        # Folders every sandbox must not see (root only: each child mounts an empty tmpfs over them).
        self.hidden = [str(folder) for folder in (grader_folders() if hidden is None else hidden)]
        self.pid = None  # the zygote's, for a sibling (whose process is not our child)
        self.scratch = Path(tempfile.mkdtemp(prefix="optimkit-"))
        self.scratch.chmod(0o711)  # an unprivileged child may enter its own folder below, not list others
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        environment = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        environment.update(
            PYTHONPATH=_PROJECT_ROOT,
            PYTHONHASHSEED="0",
            PYTHONDONTWRITEBYTECODE="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            MPLBACKEND="Agg",
            HOME=str(self.scratch),
            MPLCONFIGDIR=str(self.scratch / "matplotlib"),
        )
        self.log = open(self.scratch / "zygote.log", "wb")  # the zygote's own errors, for debugging
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.untrusted.zygote", str(theirs.fileno()), *preload],
            pass_fds=[theirs.fileno()],
            env=environment,
            cwd=self.scratch,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        theirs.close()
        self.control = ours
        self.replayable = frozenset()  # tests whose calls this zygote holds decoded (see hold_replay)

    def fork(self, workdir, limits):
        """A new sandbox child for the submission in `workdir`: (socket to it, its pid)."""
        return self._request({"workdir": str(workdir), "limits": limits, "hidden": self.hidden},
                             socket.SOCK_STREAM)

    def sibling(self):
        """Another warm zygote, forked from this one in milliseconds: one per parallel grading lane.

        Each lane needs its own, since a zygote answers one requester at a time. It shares this one's
        scratch folder and settings; close it before this one.
        """
        control, pid = self._request({"role": "zygote"}, socket.SOCK_SEQPACKET)
        other = object.__new__(Zygote)
        other.hidden, other.scratch, other.control, other.pid = self.hidden, self.scratch, control, pid
        other.replayable = self.replayable  # a fork: it holds what this one held
        other.process = other.log = None
        return other

    def hold_replay(self, calls):
        """Have the zygote decode `calls` ({test: prepared calls}, see Sandbox.prepare) once, so that
        each child forked after this runs them with no decoding (see Sandbox.replay).

        Returns the tests it holds; on any failure none, and replay then sends the calls each time.
        """
        path = self.scratch / "replay.json"
        path.write_text(json.dumps(calls), encoding="utf-8")  # only inputs, and removed once read
        try:
            socket.send_fds(self.control, [json.dumps({"role": "replay", "path": str(path)}).encode("utf-8")], [])
            answer = json.loads(self.control.recv(4096) or b"{}")
        finally:
            path.unlink()
        self.replayable = frozenset(answer.get("tests", ()))
        return self.replayable

    def _request(self, message, kind):
        ours, theirs = socket.socketpair(socket.AF_UNIX, kind)
        request = json.dumps(message).encode("utf-8")
        try:
            socket.send_fds(self.control, [request], [theirs.fileno()])
            answer = self.control.recv(4096)
        finally:
            theirs.close()
        if not answer:
            ours.close()
            raise RuntimeError(f"the worker process ended; see {self.scratch / 'zygote.log'}")
        return ours, json.loads(answer)["pid"]

    def new_workdir(self):
        folder = Path(tempfile.mkdtemp(dir=self.scratch, prefix="submission-"))
        return folder

    def close(self):
        """Stop the zygote now: waiting for its interpreter (torch loaded) to tear down costs ~0.5 s.

        Its children die with it (each asked for SIGKILL when its parent dies) and are in sessions of
        their own, which a Sandbox kills anyway when it closes.
        """
        self.control.close()
        if self.process is None:  # a sibling
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            return
        self.process.kill()
        self.process.wait()
        self.log.close()
        _remove_tree(self.scratch)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _remove_tree(path):
    import shutil

    shutil.rmtree(path, ignore_errors=True)
