"""Reading a file that someone else supplied (a submission, an LMS export's metadata) without trusting it.

Only a regular file is ever opened: a named pipe would block the reader forever, a device could be
endless (`/dev/zero`) or act on being opened (a tape rewinds, a watchdog arms), a socket cannot be read
as a file, and a symbolic link could point anywhere on the machine. So the file's type is taken from
`lstat` (which never follows a link) before anything is opened; it is then opened with `O_NOFOLLOW`
(a link put there since then fails instead of being followed) and `O_NONBLOCK` (a pipe put there since
then does not block), and the opened descriptor is checked again with `fstat`. At most `limit + 1`
bytes are read, so a file that is larger than its `lstat` said, or grows, costs no more than the limit.
"""

import os
import stat

__all__ = ["UnreadableFile", "read_regular", "refusal"]

# The kit's catalogs (grader/i18n); copied into the release's self-check (release/contents.py SHARED_FILES),
# this module finds the bundle's own grader/i18n/ beside it.
try:
    from ..i18n import N_, _
except ImportError:
    from .i18n import N_, _  # type: ignore[import-not-found,no-redef]


_KINDS = (
    (stat.S_ISLNK, N_("a symbolic link")),
    (stat.S_ISDIR, N_("a folder")),
    (stat.S_ISFIFO, N_("a named pipe (FIFO)")),
    (stat.S_ISCHR, N_("a character device")),
    (stat.S_ISBLK, N_("a block device")),
    (stat.S_ISSOCK, N_("a socket")),
)
_CHUNK = 1 << 20


class UnreadableFile(Exception):
    """The file is not a regular file, is over the size limit, or cannot be opened; `reason` says which."""

    def __init__(self, name, reason):
        super().__init__(f"{name} {reason}")
        self.name, self.reason = name, reason


def refusal(info: os.stat_result, limit: int) -> "str | None":
    """Why a file with this `lstat` result is not read ("is a named pipe (FIFO), ..."), or None if it may be."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((_(name) for test, name in _KINDS if test(info.st_mode)), _("not a regular file"))
        return _("is {kind}, not a regular file; only regular files are read").format(kind=kind)
    if info.st_size > limit:
        return _too_large(info.st_size, limit)
    return None


def read_regular(path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; UnreadableFile otherwise.

    The message of an UnreadableFile starts with the file's name: "optimizers.py is a socket, ...".
    """
    name = os.path.basename(os.fspath(path))
    try:
        reason = refusal(os.lstat(path), limit)
    except OSError as error:
        raise UnreadableFile(name, _("cannot be read: {error}").format(error=error.strerror or error)) from None
    if reason:
        raise UnreadableFile(name, reason)
    # Windows (the students' self-check reads with this module too) has none of these but O_BINARY.
    flags = os.O_RDONLY | sum(
        getattr(os, flag, 0) for flag in ("O_NOFOLLOW", "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY")
    )
    try:
        descriptor = os.open(path, flags)
    except OSError as error:  # ELOOP: it became a link since the lstat; anything else: as the system says
        raise UnreadableFile(name, _("cannot be opened: {error}").format(error=error.strerror or error)) from None
    try:
        reason = refusal(os.fstat(descriptor), limit)  # what was opened, which may not be what lstat saw
        if reason:
            raise UnreadableFile(name, reason)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise UnreadableFile(name, _("cannot be read: {error}").format(error=error.strerror or error)) from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise UnreadableFile(name, _too_large(None, limit))
    return b"".join(chunks)


def _too_large(size, limit):
    megabytes = f"{limit / 2**20:g} MB"
    if size is None:  # it grew while being read: its size is unknown, only that it passed the limit
        return _("is over the {limit}-byte limit ({megabytes}); it was read no further").format(
            limit=limit, megabytes=megabytes
        )
    return _("is {size} bytes, over the {limit}-byte limit ({megabytes}); it was not read").format(
        size=size, limit=limit, megabytes=megabytes
    )
