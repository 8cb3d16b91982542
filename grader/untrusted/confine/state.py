"""What this process knows of its isolation, set by the steps as they run and read by the rest: whether
namespaces were entered, Landlock's level and why not, and in a monitor (C1) the sandbox's uid and pid.
Mutated in place, never rebound: every module of the package shares these two dicts. Untrusted side.
"""

import os

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
