"""The filesystem student code sees: the allow-list root (read-only binds of the Python installation, the
system's libraries, a few files of /etc, a minimal /dev) and a /proc of its own; and, without namespaces,
the same allow-list as the paths Landlock lets it read. Untrusted side.
"""

import os
import site
import sys
import sysconfig

from .kernel import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT, IsolationError, _mount

_STATVFS_LOCKED = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC))


SANDBOX = "/sandbox"  # in each child: its private tmpfs (work/, tmp/, shm/)


WORK = SANDBOX + "/work"


# System folders a Python process needs; merged-/usr systems have some of them as symbolic links.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf")


_DEVICES = ("null", "zero", "full", "random", "urandom")


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


def _own_proc():
    """Cover the zygote's /proc (every process of the host) with this namespace's own, or with nothing."""
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except IsolationError:
        # A kernel that will not mount proc here (a masked /proc in a container): no /proc at all.
        _mount("optimkit-noproc", "/proc", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
