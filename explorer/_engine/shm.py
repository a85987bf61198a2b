"""Files in shared memory that a crash does not leave behind.

A parallel search keeps two things in memory every worker of this machine maps: the idle
workers' flag (:mod:`.hunger`) and stateful search's table of visited states
(:mod:`.shared_visited`). Each is a file in ``/dev/shm`` (the system's temporary
directory where there is none), made by the coordinator and removed when the search
ends, also on Ctrl-C. A coordinator killed outright (``SIGKILL``, the out-of-memory
killer) runs no code of its own, so the files are also handed to the standard
library's resource tracker, the process that already removes the search's semaphores
once every process that used them is gone; it removes files in ``/dev/shm`` as it
removes ``multiprocessing.shared_memory`` blocks (by ``shm_unlink``).
"""

from __future__ import annotations

import mmap
import os
import tempfile

SHM = "/dev/shm"


def create(prefix: str, size: int) -> tuple[str, mmap.mmap]:
    """A new file of ``size`` zero bytes, mapped: its path and its memory. Raises
    ``OSError`` where none can be made (a full ``/dev/shm``)."""
    where = SHM if os.path.isdir(SHM) else None
    fd, path = tempfile.mkstemp(prefix=prefix, dir=where)
    tracked = False
    try:
        os.ftruncate(fd, size)
        memory = mmap.mmap(fd, size)
        _tracker("register", path)
        tracked = True
    except BaseException:  # no room, or Ctrl-C: nothing is left behind
        if tracked:
            _tracker("unregister", path)
        os.unlink(path)
        raise
    finally:
        os.close(fd)
    return path, memory


def remove(path: str) -> None:
    """Remove a file :func:`create` made (the tracker forgets it)."""
    _tracker("unregister", path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _tracker(verb: str, path: str) -> None:
    if os.path.dirname(path) != SHM:
        return  # the tracker removes only what shm_unlink can name: files in /dev/shm
    try:
        from multiprocessing import resource_tracker

        getattr(resource_tracker, verb)("/" + os.path.basename(path), "shared_memory")
    except Exception:  # noqa: BLE001 - no tracker (an embedded Python): the file is removed at the end only
        pass
