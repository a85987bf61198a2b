"""One table of visited states for every worker process of a stateful search, as
multi-core SPIN keeps one (Holzmann and Bosnacki, *The design of a multicore extension
of the SPIN model checker*, 2007).

The table is open addressing over a file in shared memory (:mod:`.shm`): each slot
holds a state's 64-bit fingerprint (:mod:`.fingerprints`; 0 marks a free slot) and the
sleep set the state was explored with, a bitmask of threads. Slots are
guarded by striped locks (POSIX semaphores, by name): a visit reads and writes its slot
under the slot's stripe, so the test and the insert are one step, as
:meth:`.Stateful.choose`'s are on its own dict.

Why the search stays sound: a state is in the table only once a worker has taken it on,
and every state a worker takes on is explored, by it or by the units it hands back (a
search that stops early is incomplete and says so). A visit reports a state visited
only when the sleep set stored with it leaves no thread awake that is awake now, and
what it stores shrinks to the intersection, as serially: the threads left are the
caller's to explore. When the table is full a visit says so (``None``) and the caller
keeps that state in its own set, which is always sound, at the price of states two
workers may both explore.

The file also holds the *facts* the workers learn, one byte each, set once and never
cleared: which lost updates were seen (:meth:`.ModelGraph.catch_up`). A state's key
leaves out what can only show a lost update already seen; a worker that learns of one
from another keys its states as coarsely as the one that saw it, so both store the
states past it once, not once per worker at each level of knowledge. A fact is set only
once the update is seen, and the worker that saw it runs the path that shows it (a search
stopped before then is incomplete and says so).

``create`` makes the table in the coordinator; the :class:`Handle` travels to the
workers, which ``attach``. Only processes of one machine can share it: the Ray backend
explores statefully in the coordinator instead.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass

from . import shm

#: Slots in a table: 16 bytes each, so 64 MiB, touched as states arrive.
CAPACITY = 1 << 22
#: How full a table may get before visits say it is full: probes stay short below it.
LOAD = 0.75
#: Locks over the slots: two workers meet on one only when their slots share a stripe.
STRIPES = 64

#: Words before the slots: each stripe's count of the states stored in its slots.
H = STRIPES + STRIPES % 2

#: The most facts a table holds: a program with more (variables times threads squared)
#: shares none, and each worker learns them on its own.
MOST_FACTS = 1 << 20

#: What :meth:`SharedVisited.visit` returns for a state not seen before: every thread
#: awake now is to be explored from it (all bits set).
NEW = -1


@dataclass(frozen=True, slots=True)
class Handle:
    """What a worker needs to attach: the file, its slot count, the locks' names."""

    path: str
    capacity: int
    locks: tuple[str, ...]
    kind: int  # the semaphores' kind and largest value, to open them again
    maxvalue: int
    facts: int = 0  # bytes of facts, a multiple of 8, between the stripes' counts and the slots


class SharedVisited:
    """The visited states of a stateful search, shared by the processes that attach."""

    def __init__(self, handle: Handle, memory: mmap.mmap, locks: list, owner: bool) -> None:
        self.handle = handle
        self.memory = memory
        self.slots = memoryview(memory).cast("Q")
        self.facts = memoryview(memory)[H * 8:H * 8 + handle.facts]
        self.base = H + handle.facts // 8  # the first slot's word
        self.locks = locks
        # the semaphores themselves: a visit enters and leaves one in C, without the two
        # Python calls of multiprocessing's Lock around it
        self.stripes = [lock._semlock for lock in locks]
        self.mask = handle.capacity - 1
        self.limit = int(handle.capacity * LOAD)
        self.owner = owner
        self.inserted = 0  # states this process put in the table
        self.full = len(self) >= self.limit
        # a power of two less one, at most 255, and small beside the room past the limit
        self.every = max(1, min(256, (handle.capacity - self.limit) // 64)).bit_length()
        self.every = (1 << (self.every - 1)) - 1

    @classmethod
    def create(cls, capacity: int = CAPACITY, facts: int = 0) -> SharedVisited:
        """A new, empty table, in this (the coordinator's) process, with room for ``facts``
        facts (none past :data:`MOST_FACTS`)."""
        import multiprocessing

        assert capacity & (capacity - 1) == 0, "[explorer internal bug] a table's capacity is a power of two"
        facts = -(-facts // 8) * 8 if facts <= MOST_FACTS else 0
        path, memory = shm.create("explorer-visited-", _size(capacity, facts))
        try:
            context = multiprocessing.get_context("forkserver")
            locks = [context.Lock() for _ in range(STRIPES)]
        except BaseException:  # Ctrl-C too: the file goes with the table that was not made
            memory.close()
            shm.remove(path)
            raise
        first = locks[0]._semlock
        handle = Handle(path, capacity, tuple(lock._semlock.name for lock in locks), first.kind, first.maxvalue,
                        facts)
        return cls(handle, memory, locks, owner=True)

    @classmethod
    def attach(cls, handle: Handle) -> SharedVisited:
        """The table ``handle`` names, in a worker process."""
        from multiprocessing.synchronize import Lock

        fd = os.open(handle.path, os.O_RDWR)
        try:
            memory = mmap.mmap(fd, _size(handle.capacity, handle.facts))
        finally:
            os.close(fd)
        locks = []
        for name in handle.locks:
            # a named semaphore, opened again by name, as unpickling one does in a process
            # the fork server started (pickling one outside a process's start is refused)
            lock = Lock.__new__(Lock)
            lock.__setstate__((0, handle.kind, handle.maxvalue, name))
            locks.append(lock)
        return cls(handle, memory, locks, owner=False)

    def visit(self, fingerprint: int, asleep: int) -> int | None:
        """Visit the state ``fingerprint`` with the sleep set ``asleep``: :data:`NEW` if no
        one had (it is stored, with ``asleep``); 0 if it was explored with no more threads
        awake than now (cut the run); otherwise the threads asleep then and awake now,
        which are to be explored from it (the stored set shrinks to the intersection).
        None when the table is full and does not hold it: keep it elsewhere. A sleep set
        is one word: threads numbered below 64 (the graph walk, its only user, says so)."""
        fingerprint = fingerprint & 0xFFFF_FFFF_FFFF_FFFF or 1  # 0 marks a free slot
        slots, mask, stripes, base = self.slots, self.mask, self.stripes, self.base
        i = fingerprint & mask
        probes = 0
        # Each slot is read and written under its own stripe's lock only. A slot goes from
        # free to taken once and is never freed, so every process that looks for one
        # fingerprint passes the same taken slots and the same first free one: it is stored once.
        while True:
            at = base + 2 * i
            with stripes[i % STRIPES]:
                held = slots[at]
                if held == fingerprint:
                    stored = slots[at + 1]
                    if stored & ~asleep == 0:
                        return 0
                    slots[at + 1] = stored & asleep
                    return stored & ~asleep
                if held == 0:
                    if self.full:
                        return None
                    slots[at + 1] = asleep
                    slots[at] = fingerprint
                    slots[i % STRIPES] += 1  # the stripe's count of states, under its lock
                    break
            i = (i + 1) & mask
            probes += 1
            if probes > mask:  # every slot taken (more processes overshot than room was left)
                return None
        self.inserted += 1
        if not self.inserted & self.every:  # how full the table is, now and then: each process
            self.full = len(self) >= self.limit  # overshoots the limit by ``every`` states at most
        return NEW

    def learn(self, fact: int) -> None:
        """Make fact number ``fact`` known to every process (its byte goes from 0 to 1, and
        stays: a plain write, which no other process undoes, needs no lock)."""
        self.facts[fact] = 1

    def known(self) -> bytes:
        """Every fact's byte, as it is now: 1 for each one some process learned."""
        return self.facts.tobytes()

    def __len__(self) -> int:
        """How many states the table holds, stored by every process."""
        return sum(self.slots[:STRIPES])

    def close(self) -> None:
        """Let go of the table; the coordinator, which made it, also removes it."""
        self.slots.release()
        self.facts.release()
        self.memory.close()
        if self.owner:
            shm.remove(self.handle.path)


def _size(capacity: int, facts: int) -> int:
    """Bytes of a table: the stripes' counts, the facts, then two words a slot."""
    return (H + 2 * capacity) * 8 + facts
