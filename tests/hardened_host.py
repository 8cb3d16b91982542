"""Run a command as on a hardened desktop (Ubuntu 24.04 and later) without root (test set-up only).

Usage (as the unprivileged user): python hardened_host.py -- COMMAND...

There AppArmor lets an unprivileged process make a user namespace but gives it no capability in it, so
nothing can be mounted (the sandbox's root cannot be built). Emulated here with a seccomp filter, loaded
through tests/docker_container.py's loader, that lets `unshare` make the namespaces and refuses every
`mount` with EPERM: the same refusal, met at the first mount instead of at the uid map.
"""

import os
import sys

import docker_container

PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mount", "pivot_root"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}


def main(argv):
    command = argv[argv.index("--") + 1 :]
    docker_container.load_profile(PROFILE, capabilities=(), no_new_privs=True)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
