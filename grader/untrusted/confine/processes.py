"""Processes: without namespaces, the monitor (C1) that outlives the sandbox (C2); and ending what a call or a
sandbox started, then removing what it left. (With namespaces, PID 1 of the sandbox's namespace.) Untrusted side.
"""

import os
import shutil
import signal
import time

from .kernel import _LIBC, PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, die_with_parent
from .state import _CHILD, _STATE
from .user import _own_uid


def _monitor():
    """Without namespaces, in C1: become the sandbox's monitor and fork the sandbox (C2), which gets a
    session of its own. C1, a child subreaper, inherits every process the submission orphans; as root it
    also gives the sandbox a uid of its own, so that `end_sandbox` can end every process of that uid."""
    if os.geteuid() == 0:
        _CHILD["uid"] = _own_uid()
    _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    pid = os.fork()
    if pid == 0:
        os.setsid()  # the grader ends this session's group; the monitor, outside it, then cleans up
        die_with_parent()
        _CHILD["sandbox"] = os.getpid()
        return 0
    # If the zygote dies, end the sandbox (and so come to end_sandbox) rather than die before cleaning up.
    signal.signal(signal.SIGTERM, lambda *_: _kill_quietly(pid))
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    return pid


def _kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def wait_for_sandbox(leader):
    """In the monitor: reap children (orphans of the submission come here) until the sandbox has ended."""
    while True:
        try:
            if os.waitpid(-1, 0)[0] == leader:
                return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def end_sandbox(workdir):
    """In the monitor (C1), once the sandbox (C2) has ended: end every process the submission started
    (as root, all of its uid's; in any case, every descendant, which all come back to this subreaper),
    remove what its uid left in /tmp and /dev/shm (as root), and its work folder."""
    if _STATE["namespaces"]:
        return
    uid = _CHILD["uid"]
    if uid is not None:
        _kill_uid(uid)
    _kill_descendants()
    if uid is not None:
        for folder in ("/tmp", "/dev/shm"):
            _remove_owned(folder, uid)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def _kill_uid(uid):
    """kill(-1) as `uid`: every process of that uid at once (the kernel walks them under its task lock,
    so none can fork its way out), from a child that takes the uid for this alone."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _kill_descendants(seconds=5.0):
    """As a child subreaper: kill every child, reap it, again, until none is left (a grandchild whose
    parent dies comes back to us)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.002)


def _children():
    ours = str(os.getpid())
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == ours:
                found.append(int(name))
    return found


def _remove_owned(folder, uid):
    """Remove what `uid` owns in `folder`, and below in folders anyone may write in (all it could reach)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if status.st_uid == uid:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif entry.is_dir(follow_symlinks=False) and status.st_mode & 0o002:
            _remove_owned(entry.path, uid)


def end_other_processes():
    """In the sandbox, after each call: end every other process of the submission (what the call started).

    As PID 1 of its namespace: every process of the namespace. Without namespaces, kill(-1) reaches the
    same set where it can reach nothing else: as root, the sandbox's own uid holds only the submission's
    processes; without root, only where Landlock scopes signals (ABI 6) to the sandbox. Elsewhere they
    end with the sandbox (its monitor, `end_sandbox`)."""
    if _STATE["namespaces"]:
        if os.getpid() != 1:
            return
    elif os.getpid() != _CHILD.get("sandbox") or (
        not (_CHILD["uid"] is not None and os.getuid() == _CHILD["uid"]) and _STATE["landlock"] < 6
    ):
        return  # a process the submission forked never ends the sandbox itself
    try:
        os.kill(-1, signal.SIGKILL)  # every process this one may signal, but itself
    except OSError:
        pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
