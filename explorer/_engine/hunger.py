"""A worker that has nothing to do, told to the units that run: split now.

A unit runs for a slice of time, then hands back what it left as new units. Slices keep
the workers fed, but each one costs a round trip (the unit's state pickled there and
back), and at the end of a search the last long unit runs on while the other workers
wait. So the coordinator also raises a flag when a worker is idle and no unit waits in
the queue, and lowers it once units wait again; a unit that sees it raised, and has run
for at least :data:`AT_LEAST` seconds, splits at its next execution, as at the end of
its slice. Work moves when a worker is hungry, not only on a timer (work stealing, as
GenMC and Nidhugg share their searches among threads).

The flag is one byte in a file in shared memory (:mod:`.shm`), which every worker of
this machine maps; reading it (``memory[0]``) costs a worker next
to nothing per execution. Workers on other machines (Ray) have no flag and split on the
slice alone. Which unit splits, and when, depends on timing only: a split unit's starts partition
its work exactly, so the result does not depend on it.
"""

from __future__ import annotations

import mmap
import os

from . import shm

#: Seconds a unit runs before a raised flag splits it: what it did is worth its round trip.
AT_LEAST = 0.05


class Hunger:
    """The flag, in the coordinator (``create``) or in a worker (``attach``)."""

    def __init__(self, path: str | None, memory: mmap.mmap | None, owner: bool) -> None:
        self.path = path
        self.memory = memory
        self.owner = owner
        self.raised = False  # the coordinator's last word, so that it writes only changes

    @classmethod
    def create(cls) -> Hunger:
        """The flag, lowered; where no file can be made (a full ``/dev/shm``), one that is
        never raised (``path`` None): units then split on their slice alone."""
        try:
            path, memory = shm.create("explorer-hunger-", mmap.PAGESIZE)
        except OSError:
            return cls(None, None, owner=False)
        return cls(path, memory, owner=True)

    @classmethod
    def attach(cls, path: str) -> Hunger | None:
        """The flag at ``path``; None where it cannot be mapped (another machine's)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            memory = mmap.mmap(fd, mmap.PAGESIZE, prot=mmap.PROT_READ)
        except OSError:
            return None
        finally:
            os.close(fd)
        return cls(path, memory, owner=False)

    def set(self, raised: bool) -> None:
        """Raise or lower the flag (the coordinator)."""
        if raised != self.raised and self.memory is not None:
            self.memory[0] = raised
            self.raised = raised

    def close(self) -> None:
        if self.memory is not None:
            self.memory.close()
        if self.owner:
            shm.remove(self.path)
