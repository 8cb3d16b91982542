"""The steps, in order (see the package's docstring): each calls the mechanisms of the modules beside it.
Untrusted side.
"""

import io
import os
import resource
import signal
import sys

from .. import landlock
from .blocked_imports import BLOCKED_PACKAGES, _BlockGraderImports
from .filesystem import SANDBOX, WORK, _build_root, _landlock_devices, _landlock_read_only, _own_proc
from .kernel import (
    _LIBC,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    PR_SET_NO_NEW_PRIVS,
    IsolationError,
    _check,
    _mount,
    _syscall,
    _unshare,
    die_with_parent,
)
from .output import CappedOutput
from .processes import _monitor
from .seccomp import _filter_syscalls
from .state import _STATE
from .user import _drop_privileges, _enter_user_namespace, sandbox_owner


def isolate_worker():
    """Give the zygote its own mount, network and IPC namespaces (and a user namespace when not root).

    Returns the isolation state (also kept for `describe()`); never raises: where the kernel refuses,
    the state says why and the sandboxes run with reduced isolation.
    """
    uid, gid = os.getuid(), os.getgid()
    if os.environ.get("OPTIMKIT_NAMESPACES") == "off":  # to test the fallbacks where namespaces work
        _STATE["reason"] = "namespaces turned off (OPTIMKIT_NAMESPACES=off)"
        _find_landlock()
        return dict(_STATE)
    try:
        if os.geteuid() == 0:
            _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
            _mount(None, "/", None, MS_REC | MS_PRIVATE)  # mounts from now on stay in this namespace
        else:
            # A user namespace cannot be left: tried first in a child, since a kernel may let us make one
            # and then refuse what it is for (Ubuntu 24.04's AppArmor gives it no capability).
            refused = _in_child(lambda: _enter_user_namespace(uid, gid))
            if refused:
                raise IsolationError(refused, f"a user namespace that can mount: {os.strerror(refused)}")
            _enter_user_namespace(uid, gid)
            _STATE["user_namespace"] = True
    except (IsolationError, OSError) as error:
        if _STATE["user_namespace"]:
            raise  # inside a user namespace without a mapping nothing works: stop rather than go on half-done
        _STATE["reason"] = _refusal(error)
        _find_landlock()
        return dict(_STATE)
    _STATE["namespaces"] = True
    return dict(_STATE)


def _in_child(step):
    """Run `step` in a forked child; 0 if it worked, else the errno that stopped it (EPERM if none)."""
    pid = os.fork()
    if pid == 0:
        try:
            step()
            code = 0
        except OSError as error:
            code = error.errno or 1
        except BaseException:  # noqa: BLE001 -- whatever it was, the step did not work
            code = 1
        os._exit(min(max(code, 0), 255))
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 0 if code == 0 else (code if code > 0 else 1)


def _find_landlock():
    """Without namespaces: the Landlock ABI level the kernel offers (0: none, and why)."""
    if os.environ.get("OPTIMKIT_LANDLOCK") == "off":  # to test the reduced level where Landlock works
        _STATE["landlock_reason"] = "Landlock turned off (OPTIMKIT_LANDLOCK=off)"
        return
    _STATE["landlock"] = landlock.abi()
    if not _STATE["landlock"]:
        _STATE["landlock_reason"] = (
            "the kernel offers no Landlock (Linux 5.13 or later, with `landlock` among "
            "the security modules enabled at boot)"
        )


def _refusal(error):
    if os.geteuid() != 0:
        return (
            f"the kernel refused an unprivileged user namespace ({error.strerror}); where it is allowed "
            "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, or on Ubuntu 24.04 "
            "and later AppArmor's kernel.apparmor_restrict_unprivileged_userns=0), namespaces isolate fully"
        )
    return (
        f"the kernel refused new namespaces ({error.strerror}): in a container with Docker's default "
        "capabilities and seccomp profile they are refused by design"
    )


def enter_allowlist_root(staging, project, hidden_packages=()):
    """Pivot into a new root that holds only what running student code needs, read-only.

    staging: an empty folder of ours to build the root in. project: the kit's folder, never exposed (nor
    any folder that holds it). hidden_packages: the kit's own package folders, covered where an
    exposed site-packages holds them (a non-editable install).
    """
    if not _STATE["namespaces"]:
        if _STATE["landlock"]:  # computed once here, for every child, and tried once in a child of ours
            _STATE["landlock_read"] = _landlock_read_only(project, hidden_packages)
            refused = _in_child(
                lambda: (
                    _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                    or landlock.restrict(_STATE["landlock_read"], [staging], _landlock_devices())
                )
            )
            if refused:  # a sandbox that cannot be built would fail every submission: say so instead
                _STATE.update(
                    landlock=0, landlock_reason=f"Landlock refused the sandbox's rules ({os.strerror(refused)})"
                )
        return
    try:
        root = _build_root(staging, project, hidden_packages)
        os.chdir(root)
        _syscall("pivot_root", b".", b".")  # the old root now lies under the new one, at the same place
    except OSError as error:  # e.g. a root that pivot_root refuses (an initramfs): grade with what is left
        os.chdir(staging)
        _STATE.update(namespaces=False, reason=f"the sandbox's root could not be built ({error})")
        return
    _check(_LIBC.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    sys.path[:] = [entry for entry in sys.path if entry and os.path.isdir(entry)]


def isolate_child(limits):
    """In a child of the zygote (C1): new namespaces and a private tmpfs, then fork.

    Returns the pid of the new child (C2, PID 1 of the new namespace) in C1, and 0 in C2.
    """
    os.setsid()
    die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote ignores it; C1 waits for C2
    if not _STATE["namespaces"]:
        return _monitor()
    _unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET)
    uid, gid = sandbox_owner()
    # One tmpfs for everything writable: the cap on bytes and files holds for the whole sandbox.
    _mount(
        "optimkit-sandbox",
        SANDBOX,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={limits.disk_bytes},nr_inodes={limits.disk_files},mode=0755,uid={uid},gid={gid}",
    )
    for name in ("work", "tmp", "shm"):
        os.mkdir(f"{SANDBOX}/{name}", 0o700)
        os.chown(f"{SANDBOX}/{name}", uid, gid)
    _mount(f"{SANDBOX}/tmp", "/tmp", None, MS_BIND)
    _mount(f"{SANDBOX}/shm", "/dev/shm", None, MS_BIND)
    return os.fork()


def enter(limits, reduced_workdir=None):
    """Turn this process (C2) into the sandbox for one submission; returns (stdout, stderr, notes).

    reduced_workdir: without namespaces, the host folder to work in (made private to the submission).
    """
    notes = []
    if _STATE["namespaces"]:
        _own_proc()
        os.chdir(WORK)
        os.environ.update(HOME=WORK, TMPDIR="/tmp")
    else:
        os.chdir(reduced_workdir)
        os.environ.update(HOME=reduced_workdir, TMPDIR=reduced_workdir)
    try:  # if memory runs out, the kernel ends a student's process first, never the grader
        with open("/proc/self/oom_score_adj", "w") as file:
            file.write("1000")
    except OSError:
        pass
    notes += _drop_privileges(reduced_workdir)
    die_with_parent()  # again: changing credentials clears it
    _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    notes += _filter_syscalls()

    # Address space on top of what this process maps now (torch maps ~0.6 GB just by being imported).
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    for kind, value in (
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, mapped + limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CORE, 0),
    ):
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(kind, (value, value if kind != resource.RLIMIT_CPU else value + 5))
        except (ValueError, OSError) as error:
            notes.append(f"could not set {kind}: {error}")
    if not _STATE["namespaces"] and _STATE["landlock"]:
        # Last of the walls (it closes /proc to this process): where it fails, no student code runs.
        try:
            landlock.restrict(_STATE.get("landlock_read", ()), [reduced_workdir], _landlock_devices())
        except OSError as error:
            raise IsolationError(error.errno or 0, f"Landlock: {error.strerror or error}") from None

    # Student prints go to capped buffers; what reaches the real descriptors 1 and 2 goes nowhere.
    stdout, stderr = CappedOutput(limits.output_bytes), CappedOutput(limits.output_bytes)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout, sys.stderr = stdout, stderr
    sys.stdin = io.StringIO("")

    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            del sys.modules[name]
    sys.meta_path.insert(0, _BlockGraderImports())
    return stdout, stderr, notes
