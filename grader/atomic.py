"""Writing a file so that a crash or Ctrl-C leaves the old version or the new one, never half of one."""

from __future__ import annotations  # `bytes | str` below: annotations stay text on Python 3.9

import os
import secrets
from pathlib import Path

__all__ = ["PRIVATE", "write_atomic"]

#: The mode of a file only its owner may read: answers, scores, what students wrote.
PRIVATE = 0o600


def write_atomic(path: Path, data: bytes | str, mode: int = 0o666) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and `os.replace`.

    The rename is atomic on one file system, so a crash or Ctrl-C leaves the old file or the new one.
    Text is written as UTF-8 with "\\n" line ends whatever the platform. The file gets the usual
    permissions (0666 less the umask), not mkstemp's private 0600, since a teacher's tools must read it;
    `mode=PRIVATE` for a file that holds answers or scores. The mode is set when the file is created,
    so there is no moment at which a private file is readable by others.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):  # a lone surrogate (student text) is written as its escape, never a crash
        data = data.encode("utf-8", "backslashreplace")
    temporary, handle = _create_temporary(path, mode)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _create_temporary(path: Path, mode: int) -> tuple[Path, int]:
    """A new file next to `path`, created with `mode` less the umask (mkstemp would always give 0600).

    Changing the umask to read it would race with other threads of the batch driver; O_EXCL with a random
    name is what mkstemp does, with the mode we want.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {path}")
