"""Writing files atomically: a reader (or a crash) sees the old file or the new one, never half.

>>> import pathlib, tempfile
>>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "note.txt"
>>> write_text(target, "hello\\n").read_text()
'hello\\n'
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(stream)`` on a new file beside ``path``, then rename it into place.

    The folder is created if needed; on any failure the temporary file is removed and
    the old ``path`` (if any) is left as it was. A link is followed to the file it names.
    What is not a regular file (``/dev/stdout``, a FIFO, a device) is never renamed
    over: it is written directly. A folder is refused (``IsADirectoryError``).
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
    if target.exists() and not target.is_file():
        with open(target, "wb") as stream:
            write(stream)
        return Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _temporary_beside(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8, atomically; what cannot be encoded (a file name's stray
    bytes, kept by Python as surrogates) is written as a backslash escape."""
    return write_atomically(path, lambda stream: stream.write(text.encode("utf-8", "backslashreplace")))


def unwritable(error: OSError, target: str | os.PathLike) -> str:
    """Why ``target`` could not be written, in a few words, naming the path at fault when
    it is another (the folder a temporary file was to go in, a part of the path)."""
    reasons = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "the file system is read-only", errno.EISDIR: "it is a folder, not a file",
               errno.ENOTDIR: "a part of the path is a file, not a folder", errno.ENOSPC: "no space left",
               errno.ENAMETOOLONG: "the name is too long", errno.EEXIST: "a file of that name is in the way"}
    reason = reasons.get(error.errno) or error.strerror or type(error).__name__
    where = error.filename
    if where is not None and Path(os.fsdecode(where)).name.endswith(".tmp"):
        where = Path(os.fsdecode(where)).parent  # the temporary file beside the target: its folder is at fault
    return reason if where is None or str(where) == str(target) else f"{reason} ({where})"


def _temporary_beside(target: Path) -> tuple[int, str]:
    """A new, hidden file in ``target``'s folder (so that ``os.replace`` is atomic), created with
    the usual permissions (``tempfile.mkstemp`` would make it private to its owner)."""
    for _ in range(100):
        name = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(name, flags, 0o666), str(name)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {str(target)!r}")
