"""Run a command in an emulation of a Docker container started with Docker's defaults (test set-up only).

Usage (as root): python docker_container.py [--user USER] [--expose PATH]... -- COMMAND...

What `docker run` gives a container by default, rebuilt here from the facts (no Docker needed):
- its own mount, PID, IPC and UTS namespaces (the command is PID 1 of the new PID namespace, with a
  /proc of its own); the network is the host's here (Docker's bridge network, a detail the tests need
  not copy: a connection to a listener of the test is what an attack tries);
- root, with only Docker's 14 default capabilities (moby's oci/caps/defaults.go) in every set, the
  bounding set included;
- moby's default seccomp profile (tests/data/moby-seccomp-default.json, loaded as data through
  libseccomp with ctypes: each entry's includes and excludes weighed against those capabilities and
  this architecture), without no_new_privs, as Docker loads it.
--user USER: then the command runs as USER (a container started with --user, or an instructor's
account on a hardened host where user namespaces are refused): no capabilities at all.
--expose PATH: folders the container's users must reach although they lie under a folder only root may
enter (pyenv under /root): covered as run_unprivileged.py does, in this mount namespace only.
"""

import ctypes
import json
import os
import platform
import pwd
import sys
from pathlib import Path

import run_unprivileged

PROFILE = Path(__file__).with_name("data") / "moby-seccomp-default.json"
DOCKER_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
# Linux's capability numbers (linux/capability.h).
CAPABILITY_NUMBERS = {
    name: number
    for number, name in enumerate(
        (
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN",
            "CAP_NET_RAW",
            "CAP_IPC_LOCK",
            "CAP_IPC_OWNER",
            "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO",
            "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT",
            "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE",
            "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG",
            "CAP_MKNOD",
            "CAP_LEASE",
            "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN",
            "CAP_SYSLOG",
            "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ",
            "CAP_PERFMON",
            "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE",
        )
    )
}
DOCKER_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x04000000, 0x08000000, 0x20000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x4000, 0x40000, 0x2, 0x4, 0x8
PR_CAPBSET_DROP = 24
# libseccomp: actions, comparison operators, the no_new_privs attribute, and struct scmp_arg_cmp.
ACT_ALLOW, ACT_ERRNO = 0x7FFF0000, 0x00050000
COMPARE = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
ATTRIBUTE_NO_NEW_PRIVS = 3
ARCHES = {
    "SCMP_ARCH_X86_64": 0xC000003E,
    "SCMP_ARCH_X86": 0x40000003,
    "SCMP_ARCH_X32": 0x4000003E,
    "SCMP_ARCH_AARCH64": 0xC00000B7,
    "SCMP_ARCH_ARM": 0x40000028,
}


class ArgumentTest(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _kernel_at_least(version):
    have = [int(part) for part in platform.release().split("-")[0].split(".")[:2]]
    return have >= [int(part) for part in version.split(".")[:2]]


def applies(entry, capabilities, arch):
    """Whether a profile entry applies to a container with `capabilities` on `arch` (Docker's rules:
    every included capability held, none of the excluded; the arch listed, or not excluded)."""
    includes, excludes = entry.get("includes") or {}, entry.get("excludes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if includes.get("caps") and not all(cap in capabilities for cap in includes["caps"]):
        return False
    if includes.get("minKernel") and not _kernel_at_least(includes["minKernel"]):
        return False
    return not (
        arch in (excludes.get("arches") or ()) or any(cap in capabilities for cap in excludes.get("caps") or ())
    )


def load_profile(profile, capabilities=DOCKER_CAPABILITIES, no_new_privs=False):
    """Compile moby's profile (a dict) with libseccomp and load it into this process, no_new_privs unset
    as Docker leaves it (set: for a process without CAP_SYS_ADMIN, which may load a filter only so)."""
    seccomp = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    machine = platform.machine()
    arch = DOCKER_ARCH[machine]

    def action(name, errno):
        if name == "SCMP_ACT_ALLOW":
            return ACT_ALLOW
        if name == "SCMP_ACT_ERRNO":
            return ACT_ERRNO | ((1 if errno is None else errno) & 0xFFFF)
        raise ValueError(f"action {name} is not emulated")

    default = action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    context = ctypes.c_void_p(seccomp.seccomp_init(ctypes.c_uint32(default)))
    if not context:
        raise OSError("seccomp_init failed")
    native = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}[machine]
    for entry in profile.get("archMap", ()):
        if entry["architecture"] == native:
            for sub in entry.get("subArchitectures", ()):
                if sub in ARCHES:
                    seccomp.seccomp_arch_add(context, ctypes.c_uint32(ARCHES[sub]))
    _check(
        seccomp.seccomp_attr_set(context, ATTRIBUTE_NO_NEW_PRIVS, ctypes.c_uint32(int(no_new_privs))),
        "seccomp_attr_set",
    )
    for entry in profile["syscalls"]:
        if not applies(entry, capabilities, arch):
            continue
        chosen = action(entry["action"], entry.get("errnoRet"))
        if chosen == default:
            continue
        tests = [
            ArgumentTest(arg["index"], COMPARE[arg["op"]], arg["value"], arg.get("valueTwo", 0))
            for arg in entry.get("args") or ()
        ]
        # Docker's rule: tests on distinct arguments form one rule (all must hold); several tests on the
        # same argument each form a rule of their own (any may hold).
        groups = [tests] if len({test.arg for test in tests}) == len(tests) else [[test] for test in tests]
        for name in entry["names"]:
            number = seccomp.seccomp_syscall_resolve_name(name.encode())
            if number == -1:  # not a system call of this architecture (or too new for this libseccomp)
                continue
            for group in groups:
                array = (ArgumentTest * len(group))(*group)
                result = seccomp.seccomp_rule_add_array(context, ctypes.c_uint32(chosen), number, len(group), array)
                if result != 0:
                    raise OSError(-result, f"seccomp_rule_add {name}: {os.strerror(-result)}")
    _check(seccomp.seccomp_load(context), "seccomp_load")
    seccomp.seccomp_release(context)


def keep_capabilities(names):
    """Drop every capability but `names`, from every set (the bounding set first)."""
    keep = {CAPABILITY_NUMBERS[name] for name in names}
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for number in range(last + 1):
        if number not in keep:
            _check(LIBC.prctl(PR_CAPBSET_DROP, number, 0, 0, 0), f"drop capability {number}")
    mask = sum(1 << number for number in keep)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    words = [mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, mask >> 32, mask >> 32, mask >> 32]
    data = (ctypes.c_uint32 * 6)(*words)  # effective, permitted, inheritable of the low, then the high word
    _check(LIBC.syscall({"x86_64": 126, "aarch64": 91}[platform.machine()], header, data), "capset")


def main(argv):
    separator = argv.index("--")
    options, command = argv[:separator], argv[separator + 1 :]
    user = options[options.index("--user") + 1] if "--user" in options else None
    exposed = [options[index + 1] for index, word in enumerate(options) if word == "--expose"]
    _check(LIBC.unshare(CLONE_NEWNS), "unshare the mount namespace")
    _check(LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    run_unprivileged._expose([*exposed, sys.base_prefix, sys.prefix])  # forks: before the PID namespace
    _check(LIBC.unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    # PID 1 of the container: its own /proc, then the profile (while CAP_SYS_ADMIN still allows loading it
    # without no_new_privs, as runc does), then Docker's capabilities, then the command.
    _check(LIBC.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    load_profile(json.loads(PROFILE.read_text()))
    keep_capabilities(DOCKER_CAPABILITIES)
    if user is not None:
        account = pwd.getpwnam(user)
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        os.environ.update(USER=user, LOGNAME=user, HOME=exposed[0] if exposed else "/")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
