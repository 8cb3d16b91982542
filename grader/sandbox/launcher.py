"""Trusted side: start the warm worker process (the zygote) and ask it for sandboxes.

Standard library only: the grader starts the zygote before it imports torch itself, so that the two
imports (about 2 s each) overlap on two cores instead of adding up.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])

# Variables a worker may see; everything else (tokens, keys, the grader's own settings) stays out.
_PASSED_THROUGH = (
    "PATH",
    "LANG",
    "LC_ALL",
    "CUDA_VISIBLE_DEVICES",
    "OPTIMKIT_WORKER_USER",
    "OPTIMKIT_NAMESPACES",
    "OPTIMKIT_LANDLOCK",
)


class Zygote:
    """The warm worker process. `fork(limits)` returns a connected socket, the pids to end the sandbox
    with, and what isolates it (see untrusted/confine/).

    preload: modules the zygote imports before it forks anything, for runs that grade many submissions
    (notebooks import matplotlib.pyplot; paying for it once beats paying for it per student).
    """

    def __init__(self, preload=()):
        self.pid = None  # the zygote's, for a sibling (whose process is not our child)
        self.scratch = Path(tempfile.mkdtemp(prefix="optimkit-"))
        # Where namespaces are refused, the sandbox's user must enter its own work folder below: 0711 lets it enter
        # a folder whose (random) name it is told, never list this one.
        self.scratch.chmod(0o711)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        environment = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        environment.update(
            PYTHONPATH=_PROJECT_ROOT,  # the zygote imports grader.untrusted from here, then leaves it behind
            PYTHONHASHSEED="0",
            PYTHONDONTWRITEBYTECODE="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            MPLBACKEND="Agg",
            HOME=str(self.scratch),
            MPLCONFIGDIR=str(self.scratch / "matplotlib"),
        )
        # The zygote's own errors, for debugging: private, like everything in the scratch folder.
        self.log = os.fdopen(os.open(self.scratch / "zygote.log", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
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
        self.isolation = None  # what isolates its sandboxes, as the zygote reports it with each fork

    def fork(self, limits):
        """A new sandbox child: (socket to it, [pids that end it], its isolation). Raises RuntimeError
        when the zygote is gone or could not build the sandbox."""
        channel, answer = self._request({"limits": limits}, socket.SOCK_STREAM)
        if "error" in answer:
            channel.close()
            raise RuntimeError(str(answer["error"])[:500])
        self.isolation = answer.get("isolation")
        self.monitored = bool(answer.get("monitor"))  # the first pid cleans up after the second (Sandbox._kill)
        return channel, [answer["pid"], answer.get("leader")], self.isolation

    def sibling(self):
        """Another warm zygote, forked from this one in milliseconds: one per parallel grading lane.

        Each lane needs its own, since a zygote answers one requester at a time. It shares this one's
        scratch folder and settings; close it before this one.
        """
        control, answer = self._request({"role": "zygote"}, socket.SOCK_SEQPACKET)
        other = object.__new__(Zygote)
        other.scratch, other.control, other.pid = self.scratch, control, answer["pid"]
        other.replayable = self.replayable  # a fork: it holds what this one held
        other.isolation = self.isolation
        other.process = other.log = None
        return other

    def hold_replay(self, calls):
        """Have the zygote decode `calls` ({test: prepared calls}, see Sandbox.prepare) once, so that
        each child forked after this runs them with no decoding (see Sandbox.replay).

        Returns the tests it holds; on any failure none, and replay then sends the calls each time.
        """
        # Handed over as an open file: the zygote sees none of our folders. Only inputs, never answers.
        handle, path = tempfile.mkstemp(dir=self.scratch, prefix="replay-")
        try:
            with os.fdopen(os.dup(handle), "w", encoding="utf-8") as file:
                json.dump(calls, file)
            os.lseek(handle, 0, os.SEEK_SET)
            os.unlink(path)
            socket.send_fds(self.control, [json.dumps({"role": "replay"}).encode("utf-8")], [handle])
            answer = json.loads(self.control.recv(4096) or b"{}")
        finally:
            os.close(handle)
        self.replayable = frozenset(answer.get("tests", ()))
        return self.replayable

    def _request(self, message, kind):
        ours, theirs = socket.socketpair(socket.AF_UNIX, kind)
        request = json.dumps(message).encode("utf-8")
        try:
            socket.send_fds(self.control, [request], [theirs.fileno()])
            answer = self.control.recv(65536)
        finally:
            theirs.close()
        if not answer:
            ours.close()
            raise RuntimeError(f"the worker process ended; see {self.scratch / 'zygote.log'}")
        return ours, json.loads(answer)

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
    shutil.rmtree(path, ignore_errors=True)
