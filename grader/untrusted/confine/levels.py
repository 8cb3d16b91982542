"""describe(): what isolates student code here, in words, at the level the steps reached. Untrusted side."""

import os

from .state import _STATE


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
