"""Untrusted side: the walls around student code, built with the kernel's namespaces.

The sequence follows what bubblewrap and nsjail do, in-process, because their way (exec a new program per
sandbox) would cost every student a cold `import torch` (2 s) instead of a warm fork (milliseconds):

1. `isolate_worker()`, at the zygote's start, before torch is imported (a user namespace can only be
   entered by a single-threaded process): a user namespace when we are not root (uid mapped to itself),
   and new mount, network (loopback only) and IPC namespaces.
2. `enter_allowlist_root()`, once the zygote has imported what it needs: a fresh tmpfs root holding only
   read-only binds of the Python installation (stdlib and site-packages, never the kit's own packages),
   the system's libraries, a few files of /etc and a minimal /dev; `pivot_root` into it and detach the
   old root. Nothing else of the machine exists there: not the project, not the submissions, not /tmp.
3. `isolate_child()`, in each child forked for a submission (process "C1"): new mount, PID, IPC and
   network namespaces, a private tmpfs capped in bytes and files for the work folder, /tmp and
   /dev/shm; then a fork, whose child ("C2") is PID 1 of the new namespace: when it ends, the kernel ends
   every process the submission started.
4. `enter()`, in C2, before any student code: a /proc of its own namespace only, no privileges (as root:
   the user `nobody`; in a user namespace: no capabilities), no new privileges ever, resource limits,
   captured output, and no imports of the grader.

Where the kernel refuses namespaces (a Docker container with its default capabilities and seccomp
profile; Ubuntu 24.04 without root), `isolate_worker()` says why and each child is confined without them
(level "landlock", see landlock.py): C1 stays outside as the sandbox's monitor (a child subreaper, and
root's when we are root) and C2 runs the submission as a user of its own (as root: a uid no one else
has) under Landlock (read-only: the Python installation without the kit; read-write: its own folder; no
TCP) and a seccomp filter refusing new sockets; when C2 ends, C1 ends every process the submission
started and removes what it left (`end_sandbox`). Where Landlock is missing too (or OPTIMKIT_LANDLOCK=off),
the level is "reduced" and `describe()` lists exactly what student code can then reach; the grader prints
and records that.

One mechanism per file, as in nsjail (contain.cc orders the steps; user.cc, mnt.cc, pid.cc hold one each):

    contain.py         the four steps above, in order: isolate_worker, enter_allowlist_root, isolate_child, enter
    kernel.py          the system calls (unshare, mount, pivot_root, capset, prctl) and their flags
    state.py           what this process knows of its isolation (namespaces or not, Landlock's level, C1's child)
    user.py            users and privileges: the user namespace, the sandbox's owner or own uid, dropping privileges
    filesystem.py      the allow-list root (binds, /dev, /proc) and what Landlock lets student code read
    processes.py       without namespaces, the monitor (C1); ending what a call or a sandbox started, and cleaning up
    seccomp.py         the system-call filter
    output.py          the capped stdout and stderr
    blocked_imports.py the grader's packages refused to student code
    levels.py          describe(): the level of isolation reached, in words

The public names are re-exported here: `confine.enter(...)`, `confine.describe()`.
"""

from .blocked_imports import BLOCKED_PACKAGES
from .contain import enter, enter_allowlist_root, isolate_child, isolate_worker
from .filesystem import SANDBOX, WORK, python_folders
from .kernel import IsolationError, die_with_parent
from .levels import describe
from .output import CappedOutput
from .processes import end_other_processes, end_sandbox, wait_for_sandbox
from .user import sandbox_owner

__all__ = [
    "BLOCKED_PACKAGES",
    "SANDBOX",
    "WORK",
    "CappedOutput",
    "IsolationError",
    "describe",
    "die_with_parent",
    "end_other_processes",
    "end_sandbox",
    "enter",
    "enter_allowlist_root",
    "isolate_child",
    "isolate_worker",
    "python_folders",
    "sandbox_owner",
    "wait_for_sandbox",
]
