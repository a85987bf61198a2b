"""``threading.Lock`` and ``threading.RLock``: one owner at a time; an RLock counts re-entries.

Steps: ``acquire`` (blocks while another thread holds it; a plain Lock also blocks its
own holder, which is a self-deadlock), ``release``. With ``blocking=False`` or a
``timeout``, ``acquire`` is always enabled and sends back True or False.
Happens-before: a release publishes the holder's clock on the lock; an acquire absorbs it.
Twin: the real ``threading.Lock`` or ``RLock``, and who holds it (for the supervisor and
for a condition over it).
"""

from __future__ import annotations

import threading

from .base import ACQUIRE, RELEASE, Declaration, Misuse, Model, Twin, timed, timed_out

RELEASE_UNLOCKED = "release unlocked lock"
RELEASE_UNOWNED = "cannot release un-acquired lock"


class LockDeclaration(Declaration):
    """A lock as ``locks={"l": "lock"}`` (or ``"rlock"``) declares it."""

    __slots__ = ("reentrant",)
    _fields = ("reentrant",)
    serializable = True
    relabels = True  # its model's key can renumber threads (symmetry in stateful search)

    def __init__(self, reentrant: bool = False) -> None:
        self.reentrant = reentrant
        self._frozen = True

    @property
    def kind(self) -> str:
        return "RLock" if self.reentrant else "Lock"

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "acquire" and len(step) == 2

    def may_yield(self, name: str, step: tuple) -> bool:
        return step[0] == "acquire" and len(step) == 3 and timed(step[2])

    def lock_role(self, name: str, step: tuple) -> tuple | None:
        if step[0] == "acquire":
            return (ACQUIRE, name) if len(step) == 2 else None
        return (RELEASE, name) if step[0] == "release" else None

    def model(self, name: str, run) -> LockModel:
        return LockModel(name, run, self.reentrant)

    def twin(self, name: str, real) -> LockTwin:
        return LockTwin(name, real, self.reentrant)


class LockModel(Model):
    """Who holds the lock, and how many times (an RLock's depth)."""

    __slots__ = ("depth", "owner", "reentrant")
    accepts = frozenset({"acquire", "release", "locked"})

    def __init__(self, name: str, run, reentrant: bool) -> None:
        super().__init__(name, run)
        self.reentrant = reentrant
        self.owner: int | None = None
        self.depth = 0

    def enabled(self, thread: int, step: tuple) -> bool:
        owner = self.owner
        return owner is None or step[0] != "acquire" or (owner == thread and self.reentrant) or len(step) == 3

    def free_for(self, thread: int) -> bool:
        owner = self.owner
        return owner is None or (owner == thread and self.reentrant)

    def step(self, thread: int, step: tuple):
        # A step on the lock itself leaves its happens-before edges unrecorded: an acquire
        # absorbs the lock's name and a release publishes on it (objects.base.edges).
        if step[0] == "locked":  # Lock.locked(): whether anyone holds it
            return self.owner is not None
        if step[0] == "acquire":
            if not self.free_for(thread):
                self.run.sync(thread)  # gave up: no edge at all
                if step[2][0]:
                    timed_out(self.run, thread, step[2][1])
                return False  # blocking=False, or the timeout fired while it waited
            self.take(thread, record=False)
            return True if len(step) == 3 else None
        self.give(thread, record=False)
        return None

    def take(self, thread: int, depth: int = 1, record: bool = True) -> None:
        self.owner = thread
        self.depth += depth
        if record:
            self.run.sync(thread, absorb=self.name)

    def give(self, thread: int, fully: bool = False, record: bool = True) -> int:
        """Release once (or ``fully``, as a condition's wait does); returns the depth given up."""
        owner = self.owner
        if owner == thread:
            given = self.depth if fully else 1
            self.depth -= given
            if self.depth == 0:
                self.owner = None
            if record:
                self.run.sync(thread, publish=self.name)
            return given
        run = self.run
        if owner is not None and not self.reentrant:
            # threading.Lock has no owner: any thread may release it. Legal, but rarely meant.
            self.owner, self.depth = None, 0
            if record:
                run.sync(thread, publish=self.name)
            run.note("foreign-release", "warning", thread, (self.name, owner),
                     f"{run.who(thread)}, at step {run.position + 1}{run.at(thread)} released lock "
                     f"{self.name!r}, which {run.name(owner)} holds; threading.Lock allows this, "
                     f"but it is rarely what was meant",
                     {"lock": self.name, "holder": run.name(owner)})
            return 1
        kind = "RLock" if self.reentrant else "Lock"
        error = RELEASE_UNOWNED if self.reentrant else RELEASE_UNLOCKED
        held = f"held by {run.name(owner)}" if owner is not None else "not held by anyone"
        raise Misuse(f"released {kind} {self.name!r}, which is {held}; threading raises "
                     f"RuntimeError('{error}') here", RuntimeError(error),
                     ("release", self.name, owner is None))

    def key(self) -> object:
        return (self.owner, self.depth)

    relabels = True

    def key_relabelled(self, perm: list[int]) -> object:
        return (None if self.owner is None else perm[self.owner], self.depth)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return f"lock {self.name!r}", self.owner


class LockTwin(Twin):
    """A real lock, with its holder and depth kept beside it (an RLock does not tell)."""

    __slots__ = ("depth", "lock", "owner", "reentrant")
    accepts = LockModel.accepts

    def __init__(self, name: str, real, reentrant: bool) -> None:
        super().__init__(name, real)
        self.reentrant = reentrant
        self.lock = threading.RLock() if reentrant else threading.Lock()
        self.owner: int | None = None
        self.depth = 0

    def step(self, thread: int, step: tuple):
        if step[0] == "acquire":
            if len(step) == 3:
                blocking, timeout = step[2]
                got = self.take(thread, timeout if blocking else 0)
                return got
            self.take(thread, None)
            return None
        if self.owner == thread:
            self.depth -= 1
            if self.depth == 0:
                self.owner = None
            self.lock.release()
            return None
        if self.reentrant:
            # an RLock held by another thread: threading raises this. Not asked of the real RLock,
            # which knows its owner by thread ident, and a thread started after its owner ended
            # may be given the same ident: the release would then succeed
            raise RuntimeError("cannot release un-acquired lock")
        self.lock.release()  # threading's own RuntimeError for a Lock not held
        self.owner, self.depth = None, 0  # a Lock released by another thread than its holder
        return None

    def take(self, thread: int, timeout: float | None, depth: int = 1) -> bool:
        """Acquire (waiting at most ``timeout``, None: as long as it takes) at ``depth``."""
        lock = self.lock
        if not self.real.block(lambda s: lock.acquire(True, s) if s > 0 else lock.acquire(False), timeout,
                               lambda: self.free_for(thread), self.holder):
            return False
        for _ in range(depth - 1):
            lock.acquire()
        self.owner = thread
        self.depth += depth
        return True

    def free_for(self, thread: int) -> bool:
        owner = self.owner
        return owner is None or (owner == thread and self.reentrant)

    def holder(self) -> int | None:
        return self.owner
