"""Run a command as an unprivileged user, the way an instructor without root runs the grader.

Usage (as root): unshare --mount --propagation private python run_unprivileged.py USER PATH... -- COMMAND...

Test set-up only. The user must be able to reach the Python installation, the project and the test's
folders (PATH...), which may sit under a folder only root may enter (pyenv under /root, pytest's
/tmp/pytest-of-root). In this private mount namespace only, each such folder is covered by a 0755 tmpfs
holding just the needed paths, bound back; then the process becomes USER and runs COMMAND.
"""

import os
import pwd
import subprocess
import sys
import tempfile


def _blocked(path):
    """(the first folder on the way to `path`, itself included, that others may not enter, the paths
    under it to bind back), or None."""
    parts = os.path.realpath(path).strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            if depth < len(parts):
                return folder, {"/" + "/".join(parts[: depth + 1])}
            return folder, {os.path.join(folder, name) for name in os.listdir(folder)}  # path itself: all of it
    return None


def _expose(paths):
    while True:
        blocked = {}
        for path in paths:
            found = _blocked(path)
            if found:
                blocked.setdefault(found[0], set()).update(found[1])
        if not blocked:
            return
        for folder, children in sorted(blocked.items()):
            stage = tempfile.mkdtemp(prefix="expose-")
            subprocess.run(["mount", "--rbind", folder, stage], check=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "expose", folder], check=True)
            for child in sorted(children):
                staged = stage + child[len(folder) :]
                if os.path.islink(staged):
                    os.symlink(os.readlink(staged), child)
                    continue
                if os.path.isdir(staged):
                    os.makedirs(child, exist_ok=True)
                else:
                    open(child, "a").close()
                subprocess.run(["mount", "--rbind", staged, child], check=True)


def main(argv):
    separator = argv.index("--")
    user, paths, command = argv[0], argv[1:separator], argv[separator + 1 :]
    _expose([*paths, sys.base_prefix, sys.prefix])
    account = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    os.environ.update(HOME=paths[0] if paths else "/", USER=user, LOGNAME=user)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
