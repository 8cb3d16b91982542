"""Untrusted side: what a forked child does to itself before it runs any student code.

In order: its own session (so the grader can kill it with everything it starts), death with its parent,
resource limits, an unprivileged user where we run as root, captured and capped output, and no way to
import the grader or the reference (the oracle must not be a shortcut).
"""

import ctypes
import io
import os
import resource
import signal
import sys

from ..protocol import Limits

BLOCKED_PACKAGES = ("grader", "reference")


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
    """A meta path finder that refuses the grader's own packages to student code."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"`{name}` is not available to submissions: write your own code")
        return None


def die_with_parent():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the grader still kills the session on timeout


def _hide(folders, workdir):
    """As root, give this process its own mounts and lay an empty read-only tmpfs over each folder.

    Unix permissions stop `nobody` from writing the reference, the results or other students' files,
    but not from reading them; this stops that. Unprivileged users cannot undo a mount. Returns notes.
    """
    if os.geteuid() != 0 or not folders:
        return []
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        return [f"could not hide the grader's folders from student code (unshare: {os.strerror(ctypes.get_errno())})"]
    # Private propagation, so these mounts stay in this process and its children.
    libc.mount(b"none", b"/", None, 0x40000 | 0x4000, None)  # MS_PRIVATE | MS_REC
    notes = _expose_python(libc, workdir)
    for folder in folders:
        folder = os.path.realpath(folder)
        if not os.path.isdir(folder) or os.path.realpath(workdir).startswith(folder + os.sep):
            continue  # nothing to hide, or it holds the sandbox's own folder
        if libc.mount(b"optimkit-hidden", folder.encode(), b"tmpfs", 0x1, b"size=4k,mode=0555") != 0:  # MS_RDONLY
            notes.append(f"could not hide {folder}: {os.strerror(ctypes.get_errno())}")
    return notes


def _expose_python(libc, workdir):
    """Inside this mount namespace, let every user read the Python installation. Returns notes.

    An unprivileged child cannot import what it cannot read, and Python may live under a folder only
    root can enter (pyenv under /root, mode 700). Bind each needed top folder aside, lay a 0755 tmpfs
    over the blocking folder (which also hides the rest of it), and bind the needed folders back.
    """
    import site
    import sysconfig

    needed = {sys.base_prefix, sys.prefix, sysconfig.get_paths()["stdlib"], *site.getsitepackages()}
    blocked = {}  # blocking folder -> the children of it that Python needs
    for path in sorted(os.path.realpath(p) for p in needed if os.path.isdir(p)):
        parts = path.strip(os.sep).split(os.sep)
        for depth in range(1, len(parts)):
            folder = os.sep + os.sep.join(parts[:depth])
            if not os.stat(folder).st_mode & 0o001:  # others may not enter it
                blocked.setdefault(folder, set()).add(os.path.join(folder, parts[depth]))
                break
    notes = []
    for number, (folder, children) in enumerate(sorted(blocked.items())):
        stage = os.path.join(os.path.dirname(workdir), f".stage-{os.getpid()}-{number}")
        staged = []
        for index, child in enumerate(sorted(children)):
            target = os.path.join(stage, str(index))
            os.makedirs(target, exist_ok=True)
            if libc.mount(child.encode(), target.encode(), None, 0x1000, None) == 0:  # MS_BIND
                staged.append((child, target))
        if libc.mount(b"optimkit-exposed", folder.encode(), b"tmpfs", 0, b"size=4k,mode=0755") != 0:
            notes.append(f"could not open {folder} to student code: {os.strerror(ctypes.get_errno())}")
            continue
        for child, target in staged:
            os.makedirs(child, exist_ok=True)
            libc.mount(target.encode(), child.encode(), None, 0x1000, None)
    return notes


def _drop_privileges(workdir):
    """As root, become `nobody` (or the user in OPTIMKIT_WORKER_USER) and own only the work folder."""
    if os.geteuid() != 0:
        return None
    import pwd

    name = os.environ.get("OPTIMKIT_WORKER_USER", "nobody")
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        return f"no user {name!r} to run student code as; it runs as root"
    for folder, _, files in os.walk(workdir):
        os.chown(folder, user.pw_uid, user.pw_gid)
        for file in files:
            os.chown(os.path.join(folder, file), user.pw_uid, user.pw_gid)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.environ["HOME"] = workdir
    library = os.path.dirname(os.__file__)
    if not os.access(library, os.R_OK | os.X_OK):
        return (f"student code runs as {name!r}, who cannot read the Python installation ({library}): "
                "it can import only the modules the grader preloads (torch, numpy, matplotlib, common "
                "standard modules); install Python where every user can read it to lift this")
    return None


def enter(workdir, limits, hidden=()):
    """Turn this freshly forked process into a sandbox; returns (stdout, stderr, notes).

    hidden: folders the student code must not read (the grader, the reference, the class's files).
    """
    os.setsid()
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.chdir(workdir)
    notes = _hide(hidden, workdir)
    notes += [note for note in [_drop_privileges(workdir)] if note]

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
    sys.path[:] = [entry for entry in sys.path
                   if not any(os.path.exists(os.path.join(entry or ".", package, "__init__.py"))
                              for package in BLOCKED_PACKAGES)]
    sys.meta_path.insert(0, _BlockGraderImports())
    return stdout, stderr, notes
