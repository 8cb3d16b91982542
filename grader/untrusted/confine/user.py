"""Users and privileges: the user namespace (our uid mapped to itself), the user student code runs as, a
uid of the sandbox's own without namespaces, and dropping every privilege before student code. Untrusted side.
"""

import ctypes
import os
import pwd
import random

from .kernel import (
    _LIBC,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    MS_PRIVATE,
    MS_REC,
    PR_CAPBSET_DROP,
    IsolationError,
    _mount,
    _syscall,
    _unshare,
)
from .state import _CHILD, _STATE


def _enter_user_namespace(uid, gid):
    """New user, mount, network and IPC namespaces, our own uid and gid mapped to themselves (files keep
    their owners, and we hold no other id), and mounts made private to them."""
    _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as file:
            file.write(text)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


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
