"""Untrusted side: Landlock, the kernel's unprivileged access control, called through its three system
calls with ctypes (no binding: the PyPI ones are young or pre-release, and the calls are three structs).

Used where namespaces are refused (a Docker container with the default capabilities and seccomp profile,
which has allowed these calls since 2022; a hardened desktop such as Ubuntu 24.04 without root). A
process restricts itself and all it will start, for good, with no privilege needed (only no_new_privs).

What each ABI level (found at run time, `abi()`) adds, and what `restrict()` then asks for:
- 1 (Linux 5.13): file system rules: read-only beneath the allowed folders, read-write beneath the
  sandbox's own, nothing elsewhere;
- 2 (5.19): moving files between folders (REFER), 3 (6.2): truncation;
- 4 (6.7): TCP bind and connect: none allowed;
- 5 (6.10): ioctl on devices: allowed on the few devices opened (/dev/null..., the GPU's);
- 6 (6.12): scoping: no signal to a process outside the sandbox, no connection to an abstract Unix
  socket made outside it.
"""

import ctypes
import os
import platform
import stat

# The system call numbers are those of the generic table on both architectures the kit runs on.
_CALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2

# File system access rights, by the ABI that brought them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # rights a rule on a file may carry
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

READ = EXECUTE | READ_FILE | READ_DIR
WRITE = ~0  # everything the ABI handles (cut to it in restrict)

_LIBC = ctypes.CDLL(None, use_errno=True)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi():
    """The kernel's Landlock ABI level, or 0 where there is none (an old kernel, Landlock not enabled at
    boot, a seccomp profile refusing the call, or another architecture)."""
    calls = _CALLS.get(platform.machine())
    if calls is None:
        return 0
    version = _LIBC.syscall(calls[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(version, 0)


def handled(level):
    """(file system rights, network rights, scopes) that `restrict` takes over at ABI `level`."""
    fs = next((_FS_BY_ABI[known] for known in sorted(_FS_BY_ABI, reverse=True) if level >= known), 0)
    net = NET_BIND_TCP | NET_CONNECT_TCP if level >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if level >= 6 else 0
    return fs, net, scoped


def restrict(read_only, read_write, devices=()):
    """Restrict this process (single-threaded: a forked child) and its future children for good.

    read_only: (path, excluded paths) pairs: read and execute beneath each path, except beneath the
    excluded ones (a site-packages that holds the kit's own packages). read_write: folders where
    everything is allowed. devices: files read, written and ioctl'ed (/dev/null, a GPU's nodes).
    Returns the ABI level used; raises OSError where the kernel refuses (the caller must not go on).
    """
    level = abi()
    if level < 1:
        raise OSError(0, "Landlock is not available")
    create, add_rule, restrict_self = _CALLS[platform.machine()]
    fs, net, scoped = handled(level)
    attr = _RulesetAttr(fs, net, scoped)
    size = 8 if level < 4 else 16 if level < 6 else 24  # the struct as this ABI knows it
    ruleset = _LIBC.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        _raise("landlock_create_ruleset")
    try:

        def allow(path, access):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                return  # a folder that is not there needs no rule
            try:
                is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
                rule = _PathBeneath((access if is_dir else access & _FILE_ONLY) & fs, fd)
                if (
                    rule.allowed_access
                    and _LIBC.syscall(
                        add_rule,
                        ctypes.c_int(ruleset),
                        ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.byref(rule),
                        ctypes.c_uint32(0),
                    )
                    != 0
                ):
                    _raise(f"landlock_add_rule {path}")
            finally:
                os.close(fd)

        for path, excluded in read_only:
            for allowed in _beneath_except(path, excluded):
                allow(allowed, READ)
        for path in devices:
            allow(path, READ_FILE | WRITE_FILE | IOCTL_DEV)
        for path in read_write:
            allow(path, fs)
        # No network rule: with TCP bind and connect handled, none is allowed.
        if _LIBC.syscall(restrict_self, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            _raise("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return level


def _beneath_except(path, excluded):
    """Paths whose trees together are `path`'s tree without the `excluded` trees: a rule allows a whole
    tree, so a folder holding an excluded one is replaced by its other entries, level by level."""
    path = os.path.realpath(path)
    inside = [os.path.realpath(folder) for folder in excluded]
    if any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in inside):
        return []
    if not any(folder.startswith(path.rstrip("/") + "/") for folder in inside):
        return [path]
    found = []
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    for name in names:
        child = os.path.join(path, name)
        if os.path.islink(child):  # its target is allowed, or not, where it lies
            continue
        found.extend(_beneath_except(child, inside))
    return found


def _raise(what):
    number = ctypes.get_errno()
    raise OSError(number, f"{what}: {os.strerror(number)}")
