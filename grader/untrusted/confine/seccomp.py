"""The system-call filter (seccomp, a classic BPF program) installed in the sandbox before student code.
Untrusted side.
"""

import ctypes
import os
import platform

from .kernel import _LIBC, CLONE_NEWUSER

# The seccomp filter's syscalls, by architecture: (audit arch, add_key, request_key, keyctl, unshare, clone, clone3).
_FILTERED = {"x86_64": (0xC000003E, 248, 249, 250, 272, 56, 435), "aarch64": (0xC00000B7, 217, 218, 219, 97, 220, 435)}


# Refused too: socket, socketpair, io_uring_setup, shmget, semget, msgget, mq_open.
_REFUSED = {"x86_64": (41, 53, 425, 29, 64, 68, 240), "aarch64": (198, 199, 425, 194, 190, 186, 180)}


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
