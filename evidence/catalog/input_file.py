"""Reading a file the user names (controls.yaml, a request list): bounded and regular only.

A path given on the command line or in a catalogue may be a symlink to /dev/zero, a FIFO nobody
writes to, a folder, or simply huge. Each is refused with one line before it is read: the target
(symlinks resolved) must be a regular file no larger than the caller's limit, and no more than
that limit is ever read even if the file grows meanwhile.
"""

from __future__ import annotations

import stat
from pathlib import Path

from ..errors import ConfigError


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words a user recognises ("a folder")."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def size_text(limit: int) -> str:
    """A byte limit as "10 MiB" or "1024 KiB"."""
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit >> 10} KiB"


def read_input_file(path: Path, name: str, limit: int, what: str) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` bytes.

    Raises ConfigError naming `name` when the file is missing, unreadable, not a regular file
    (a folder, FIFO, device, socket: never opened, so a FIFO cannot hang the run), or larger than
    `limit` ("larger than 10 MiB: not <what>").
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(name, None, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(name, None, "", f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(name, None, "", f"{kind_of(info.st_mode)}, not a regular file")
    too_big = f"larger than {size_text(limit)}: not {what}"
    if info.st_size > limit:
        raise ConfigError(name, None, "", too_big)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise ConfigError(name, None, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(name, None, "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ConfigError(name, None, "", too_big)
    return data
