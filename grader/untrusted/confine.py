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
"""

import ctypes
import io
import os
import platform
import pwd
import random
import resource
import shutil
import signal
import site
import sys
import sysconfig
import time

from . import landlock

BLOCKED_PACKAGES = ("grader", "reference")

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 24, 36, 38
_SYSCALLS = {"x86_64": {"pivot_root": 155, "capset": 126}, "aarch64": {"pivot_root": 41, "capset": 91}}
# The seccomp filter's syscalls, by architecture: (audit arch, add_key, request_key, keyctl, unshare, clone, clone3).
_FILTERED = {"x86_64": (0xC000003E, 248, 249, 250, 272, 56, 435), "aarch64": (0xC00000B7, 217, 218, 219, 97, 220, 435)}
# Refused too: socket, socketpair, io_uring_setup, shmget, semget, msgget, mq_open.
_REFUSED = {"x86_64": (41, 53, 425, 29, 64, 68, 240), "aarch64": (198, 199, 425, 194, 190, 186, 180)}
_STATVFS_LOCKED = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC))

SANDBOX = "/sandbox"  # in each child: its private tmpfs (work/, tmp/, shm/)
WORK = SANDBOX + "/work"
# System folders a Python process needs; merged-/usr systems have some of them as symbolic links.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf")
_DEVICES = ("null", "zero", "full", "random", "urandom")

_LIBC = ctypes.CDLL(None, use_errno=True)
_STATE = {
    "namespaces": False,
    "user_namespace": False,
    "reason": "",
    "uid": os.getuid(),
    "gid": os.getgid(),
    "landlock": 0,
    "landlock_reason": "",
}
_CHILD = {"uid": None, "workdir": None}  # in a monitor (C1) without namespaces: whom and what to clean up


class IsolationError(OSError):
    """A step of the sandbox's set-up failed; the child must not run student code."""


def _check(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise IsolationError(number, f"{what}: {os.strerror(number)}")


def _unshare(flags):
    _check(_LIBC.unshare(flags), f"unshare({flags:#x})")


def _mount(source, target, fstype=None, flags=0, data=None):
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(_LIBC.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def _syscall(name, *arguments):
    number = _SYSCALLS.get(platform.machine(), {}).get(name)
    if number is None:
        raise IsolationError(0, f"{name} is not known on {platform.machine()}")
    _check(_LIBC.syscall(number, *arguments), name)


# --- 1. the zygote's namespaces (before torch) ------------------------------------------------------------


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


def _enter_user_namespace(uid, gid):
    """New user, mount, network and IPC namespaces, our own uid and gid mapped to themselves (files keep
    their owners, and we hold no other id), and mounts made private to them."""
    _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as file:
            file.write(text)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


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


# --- 2. the allow-list root -------------------------------------------------------------------------------


def python_folders():
    """The folders the Python installation needs: the standard library and the site-packages that are on
    sys.path (with a virtual environment, its own and not the base's)."""
    paths = sysconfig.get_paths()
    wanted = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    wanted.update(site.getsitepackages())
    wanted.update(
        entry
        for entry in sys.path
        if entry
        and os.path.isdir(entry)
        and any(os.path.realpath(entry).startswith(os.path.realpath(folder)) for folder in set(wanted))
    )
    return sorted({os.path.realpath(folder) for folder in wanted if os.path.isdir(folder)})


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


def _build_root(staging, project, hidden_packages):
    """The new root, built under `staging` (see enter_allowlist_root); returns its path."""
    project = os.path.realpath(project) if project else None
    root = os.path.join(staging, "root")
    os.mkdir(root, 0o755)
    _mount("optimkit-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=8192,mode=0755")
    for folder in _SYSTEM:
        if os.path.islink(folder):
            os.symlink(os.readlink(folder), root + folder)
        elif os.path.isdir(folder):
            _bind_read_only(folder, root + folder)
    folders = python_folders()
    if project in folders:
        project = None  # an installed kit: its packages are covered below
    for folder in folders:
        if project is None or not (project + "/").startswith(folder.rstrip("/") + "/"):  # never around the project
            _bind_read_only(folder, root + folder)  # already there when under /usr: bound again, harmlessly
    for package in hidden_packages:
        if os.path.isdir(root + package):
            _mount("optimkit-hidden", root + package, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    os.makedirs(root + "/etc", 0o755)
    for name in _ETC:
        source = os.path.join("/etc", name)
        if os.path.isdir(source) or os.path.isfile(source):
            _bind_read_only(source, root + source)
    _make_dev(root + "/dev")
    if any(name.startswith("nvidia") for name in os.listdir("/dev")):
        _bind_read_only("/sys", root + "/sys", recursive=True)  # the CUDA driver reads its devices here
    _bind_read_only("/proc", root + "/proc", recursive=True)  # covered by each child's own /proc
    for folder in ("/tmp", SANDBOX):
        os.makedirs(root + folder, 0o755, exist_ok=True)
    _mount("optimkit-zygote-tmp", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,nr_inodes=1024,mode=0700")
    return root


# System library folders a late import may load a shared library from; walked around the kit's packages.
_LIBRARIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib")


def _landlock_read_only(project, hidden_packages):
    """The (path, excluded paths) pairs Landlock lets student code read: what the allow-list root would
    hold (the Python installation, the system's libraries, a few files of /etc), never the kit's own
    packages nor the project checkout, wherever an allowed folder holds them."""
    excluded = [os.path.realpath(folder) for folder in (project, *hidden_packages) if folder]
    folders = [*python_folders(), *_LIBRARIES, sysconfig.get_config_var("LIBDIR") or "/usr/lib"]
    found = [(folder, excluded) for folder in sorted(set(folders)) if os.path.isdir(folder)]
    found += [(os.path.join("/etc", name), excluded) for name in _ETC]
    if any(name.startswith("nvidia") for name in os.listdir("/dev")):
        # The CUDA driver reads its devices here (untested under Landlock: no GPU where this was written).
        found += [("/sys", excluded), ("/proc/driver/nvidia", excluded)]
    return found


def _landlock_devices():
    names = list(_DEVICES) + sorted(name for name in os.listdir("/dev") if name.startswith("nvidia"))
    return [f"/dev/{name}" for name in names if not os.path.isdir(f"/dev/{name}")]


def _bind_read_only(source, target, recursive=False):
    if os.path.isdir(source):
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    # A read-only remount must keep the flags the source mount has locked (nosuid, nodev, noexec).
    locked = os.statvfs(source).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | sum(bit for known, bit in _STATVFS_LOCKED if locked & known)
    _mount(None, target, None, flags)


def _make_dev(dev):
    os.makedirs(dev, 0o755)
    _mount("optimkit-dev", dev, "tmpfs", MS_NOSUID, "size=64k,nr_inodes=64,mode=0755")
    # NVIDIA's device nodes too, where there are any, so that the CUDA cases can run in the sandbox.
    names = list(_DEVICES) + sorted(name for name in os.listdir("/dev") if name.startswith("nvidia"))
    for name in names:
        if name in _DEVICES or not os.path.isdir(f"/dev/{name}"):
            open(os.path.join(dev, name), "a").close()
            _mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "shm"), 0o755)
    _mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID)


# --- 3. a child's own namespaces --------------------------------------------------------------------------


def sandbox_owner():
    """(uid, gid) that student code runs as: when root, `nobody` (or OPTIMKIT_WORKER_USER) in namespaces
    and a uid of the sandbox's own without them; else ourselves."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    if _CHILD["uid"] is not None:
        return _CHILD["uid"], _CHILD["uid"]

    try:
        user = pwd.getpwnam(os.environ.get("OPTIMKIT_WORKER_USER", "nobody"))
    except KeyError:
        return 65534, 65534
    return user.pw_uid, user.pw_gid


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


def _own_uid():
    """A uid no account, process or file of this machine is likely to have, in the range this process
    may set (a container with a user namespace maps only some): random, a fresh one per sandbox."""
    ranges = []
    try:
        with open("/proc/self/uid_map") as file:
            for line in file:
                inside, _, count = (int(field) for field in line.split())
                ranges.append((inside, inside + count - 1))
    except (OSError, ValueError):
        ranges = [(0, 2**32 - 2)]
    wide = [(max(low, 1 << 20), min(high, (1 << 31) - 2)) for low, high in ranges]
    wide = [(low, high) for low, high in wide if high - low > 1 << 16]
    chooser = random.SystemRandom()
    if wide:
        low, high = chooser.choice(wide)
        return chooser.randint(low, high)

    taken = {entry.pw_uid for entry in pwd.getpwall()}
    narrow = [(max(low, 40000), min(high, 65533)) for low, high in ranges]
    for _ in range(100):
        low, high = chooser.choice([pair for pair in narrow if pair[1] > pair[0]] or [(40000, 65533)])
        uid = chooser.randint(low, high)
        if uid not in taken:
            return uid
    raise IsolationError(0, "no free uid for the sandbox")


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


# --- 4. the last steps before student code ----------------------------------------------------------------


class CappedOutput(io.TextIOBase):
    """A stdout/stderr that keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self):
        """What was written since the last take, with a note if some was dropped."""
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output dropped]"
        self.parts, self.dropped = [], 0
        return text


class _BlockGraderImports:
    """A meta path finder that refuses the grader's own packages to student code, with a clear message
    (inside the namespaces they are not there at all; this also covers reduced isolation)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"`{name}` is not available to submissions: write your own code")
        return None


def die_with_parent():
    try:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except AttributeError:
        pass  # not Linux: the grader still kills the session on timeout


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


def _filter_syscalls():
    """A seccomp filter, as bubblewrap's users install: no kernel keyrings (add_key, request_key, keyctl:
    a user's keyrings outlive the sandbox and every sandbox of that user shares them, a channel between
    students and across runs), no new namespaces (unshare, clone with CLONE_NEWUSER: kernel attack
    surface nothing here needs), clone3 answered ENOSYS (its flags cannot be read; glibc then uses
    clone), and no other architecture's or x32 system calls. Where namespaces are refused, nothing else
    keeps the network and System V IPC out, so also: no new socket of any kind (socket, socketpair: the
    sandbox keeps the one it was given; io_uring, which can make sockets too) and no System V or POSIX
    message queue, semaphore set or shared memory segment (they outlive the sandbox). Everything else is
    allowed. Returns notes."""
    numbers = _FILTERED.get(platform.machine())
    if numbers is None:
        return [f"no system-call filter on {platform.machine()}"]
    arch, add_key, request_key, keyctl, unshare, clone, clone3 = numbers
    load, jump_equal, jump_set, jump_above, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    allow, deny, no_such = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # ALLOW, ERRNO(EPERM), ERRNO(ENOSYS)
    refused = [add_key, request_key, keyctl, unshare, *_REFUSED[platform.machine()]]
    # (code, jump if true, jump if false, k); a jump skips that many instructions. The last three are
    # deny, allow and ENOSYS; `n` counts the tests of refused numbers before them.
    n = len(refused)
    program = [
        (load, 0, 0, 4),  # the architecture
        (jump_equal, 1, 0, arch),  # ours: skip the next
        (ret, 0, 0, deny),
        (load, 0, 0, 0),  # the system call's number
        (jump_above, n + 4, 0, 0x40000000),  # x32 -> deny
        *[(jump_equal, n + 3 - index, 0, number) for index, number in enumerate(refused)],  # -> deny
        (jump_equal, 5, 0, clone3),  # -> ENOSYS
        (jump_equal, 0, 3, clone),  # clone: on to its flags; anything else -> allow
        (load, 0, 0, 16),  # clone's flags (the low half of its first argument)
        (jump_set, 0, 1, CLONE_NEWUSER),  # a new user namespace -> deny, else -> allow
        (ret, 0, 0, deny),
        (ret, 0, 0, allow),
        (ret, 0, 0, no_such),
    ]

    class Instruction(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Instruction))]

    instructions = (Instruction * len(program))(*[Instruction(*entry) for entry in program])
    fprog = Program(len(program), instructions)
    if _LIBC.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        return [f"no system-call filter: {os.strerror(ctypes.get_errno())}"]
    return []


def _own_proc():
    """Cover the zygote's /proc (every process of the host) with this namespace's own, or with nothing."""
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except IsolationError:
        # A kernel that will not mount proc here (a masked /proc in a container): no /proc at all.
        _mount("optimkit-noproc", "/proc", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")


def _drop_privileges(reduced_workdir):
    """As root: become the sandbox's user (see sandbox_owner). In a user namespace: keep our uid, lose every
    capability. Returns notes."""
    if os.geteuid() == 0:
        uid, gid = sandbox_owner()
        if reduced_workdir is not None:
            for folder, _, files in os.walk(reduced_workdir):
                os.chown(folder, uid, gid)
                for file in files:
                    os.chown(os.path.join(folder, file), uid, gid)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)  # from real root to another uid: every capability goes with it
        return []
    if _STATE["user_namespace"]:
        for capability in range(64):
            _LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty (two 32-bit words)
        _syscall("capset", header, data)
    return []


def describe():
    """What isolates student code here, in words: {"level", "summary", "detail"}. Levels: "full"
    (namespaces), "landlock" (no namespaces; Landlock, seccomp, a monitor), "reduced" (neither); the
    detail of the last two ends with the exact list of what student code can still reach."""
    if _STATE["namespaces"]:
        who = "`nobody`" if os.geteuid() == 0 else "the grading user, without capabilities, in a user namespace"
        return {
            "level": "full",
            "summary": "full: own mount, PID, network and IPC namespaces, allow-list root",
            "detail": (
                f"student code runs as {who} in a root that holds only the Python installation (read-only), "
                "a private capped tmpfs for its work folder, /tmp and /dev/shm, its own PID namespace (every "
                "process it starts ends with it, and each call's extra processes end with the call) and no "
                "network; limits are rlimits (CPU, memory, files, processes), not cgroups"
            ),
        }
    root = os.geteuid() == 0
    who = (
        "a uid of its own (no other process or file has it)"
        if root
        else "the grading user (the only user here without root)"
    )
    common = (
        f"student code runs as {who}, in its own process and session, with resource limits (rlimits, not "
        "cgroups) and no_new_privs; a seccomp filter refuses it every new socket (no network, no Unix socket), "
        "System V and POSIX IPC objects and kernel keyrings; a monitor outside its session ends every process "
        "it started when its sandbox ends"
    )
    level = _STATE["landlock"]
    if level:
        scoped = level >= 6
        covered = (
            "Landlock lets it read only the Python installation, the third-party packages (not the kit's "
            "own) and the system's libraries, and write only its own work folder"
            + (", and refuses TCP bind and connect" if level >= 4 else "")
            + ("; it may signal no process outside its sandbox" if scoped else "")
        )
        exposed = []
        if not scoped and not root:
            exposed = [
                "it can signal the grading user's processes (signal scoping needs Landlock ABI 6, Linux "
                "6.12): the grader's, and the monitor, so a process it starts may outlive its sandbox",
                "the processes a call starts end when the sandbox ends, not after the call",
            ]
        return {
            "level": "landlock",
            "summary": (
                f"landlock (ABI {level}): namespaces refused ({_STATE['reason']}); Landlock, seccomp and "
                f"{'a uid of its own' if root else 'a monitor'} confine student code instead"
            ),
            "detail": f"{common}; {covered}." + (" Still exposed: " + "; ".join(exposed) if exposed else ""),
        }
    if root:
        exposed = [
            "it can read every file that any user may read (a world-readable project checkout or answer key "
            "anywhere, classmates' files left readable)",
            "it can write in every folder that any user may write in (/tmp, /dev/shm, /var/tmp): what it leaves in "
            "/tmp and /dev/shm is removed when its sandbox ends, elsewhere it stays",
            "it can list the machine's processes and their command lines through /proc",
        ]
    else:
        exposed = [
            "it can read every file the grading user can read (the project, the answers, the submissions, "
            "classmates' results)",
            "it can write every file the grading user can write (results included: it can forge them), and what "
            "it leaves in /tmp and /dev/shm stays",
            "it can signal the grading user's processes, the grader's included, and end the monitor, so a process "
            "it starts may outlive its sandbox",
            "it can list the machine's processes and their command lines through /proc",
        ]
    return {
        "level": "reduced",
        "summary": f"REDUCED: {_STATE['reason']}; {_STATE['landlock_reason']}",
        "detail": f"{common}. Exposed: " + "; ".join(exposed),
    }
