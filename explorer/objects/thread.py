"""Threads as objects: ``spawn`` starts one during a run, ``join`` waits for its end.

Every thread has a handle under its name, the scenario's threads from the start and
spawned ones from their ``spawn``. ``join(name)`` blocks while the thread runs; joining
oneself, or a thread not started yet, is an ``error`` with ``threading``'s
``RuntimeError`` text. ``spawn(name, fn, *args)`` starts ``fn(*args)`` as thread
``name`` (a name already used in the run is an ``error``); the child runs to its first
step within the spawn. Happens-before: everything the parent did before ``spawn``
happens before the child's first step; everything the thread did happens before the
``join`` that returns.
Twins: ``spawn`` starts a real ``threading.Thread`` (the run does, as it starts the
scenario's threads) and waits until it reaches its first step; ``join`` waits for that
thread's body to end.
"""

from __future__ import annotations

from .arbitrary import ORDER_PREFIX
from .base import Declaration, Misuse, Model, Twin, timed_out

JOIN_SELF = "cannot join current thread"
JOIN_UNSTARTED = "cannot join thread before it is started"


class ThreadModel(Model):
    """The handle of thread ``name``: started or not, finished or not."""

    __slots__ = ()
    accepts = frozenset({"join", "is_alive", "alive_threads"})

    def _index(self) -> int | None:
        return self.run.index_of(self.name)

    def enabled(self, thread: int, step: tuple) -> bool:
        if len(step) > 2 or step[0] != "join":  # a join with a timeout may give up at any point
            return True
        index = self._index()
        return index is None or index == thread or not self.run.started(index) or self.run.finished(index)

    def step(self, thread: int, step: tuple):
        run = self.run
        if step[0] == "alive_threads":  # threading.enumerate(): the program's threads running now
            alive = [i for i in run.threads if run.started(i) and not run.finished(i)]
            for i in alive:
                if i != thread:
                    run.sync(thread, absorb=("thread", i))
            return tuple(name for name in map(run.name, alive) if not name.startswith(ORDER_PREFIX))
        index = self._index()
        if step[0] == "is_alive":  # Thread.is_alive(): started and not finished
            alive = index is not None and self.run.started(index) and not self.run.finished(index)
            if index is not None and not alive and self.run.started(index):
                self.run.sync(thread, absorb=("thread", index))
            return alive
        if index == thread:
            raise Misuse(f"joined itself; threading raises RuntimeError('{JOIN_SELF}') here",
                         RuntimeError(JOIN_SELF), ("join-self",))
        if index is None or not self.run.started(index):
            raise Misuse(f"joined thread {self.name!r}, which has not been started (spawn it first); "
                         f"threading raises RuntimeError('{JOIN_UNSTARTED}') here",
                         RuntimeError(JOIN_UNSTARTED), ("join-unstarted", self.name))
        if len(step) > 2 and not self.run.finished(index):
            timed_out(self.run, thread, step[2])
            return None  # join(timeout) gave up: the thread runs on
        self.run.sync(thread, absorb=("thread", index))
        return None

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return f"thread {self.name!r} to finish", self._index()


class Spawner(Model):
    """Where ``spawn`` steps go: their target is the new thread's name, not an object."""

    __slots__ = ()
    accepts = frozenset({"spawn"})

    def step(self, thread: int, step: tuple):
        name, fn, args = step[1], step[2], step[3]
        run = self.run
        taken = run.name_taken(name)
        if taken:
            raise Misuse(f"spawned a thread named {name!r}, but {taken}; give every thread its own name",
                         RuntimeError(f"thread name {name!r} already used"), ("spawn-name", name))
        run.start_thread(name, (lambda: fn(*args)) if args else fn, thread)
        return None


class ProgramEnd(Model):
    """A plain program's end when daemon threads run (``end``): main waits, as the
    interpreter's exit does, until every other thread that is no daemon has ended (a
    pool's idle worker counts as ended); then the run ends, and the daemons with it."""

    __slots__ = ()
    accepts = frozenset({"end"})

    def enabled(self, thread: int, step: tuple) -> bool:
        return self.run.only_daemons_besides(thread)

    def step(self, thread: int, step: tuple):
        return None

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return "every thread that is no daemon to end, as the interpreter's exit does", None


class ThreadHandles(Declaration):
    """What every thread's name declares, without a declaration: ``spawn`` and ``join``
    touch the thread of that name, and a join waits for it."""

    __slots__ = ()
    kind = "thread"

    def may_block(self, name: str, step: tuple) -> bool:
        # is_alive and a timed join never wait (what they see, whether a thread has ended,
        # makes them dependent with every step: objects/dependence.py); a plain program's
        # end waits for its threads that are no daemons
        return (step[0] == "join" and len(step) == 2) or step[0] == "end"

    def may_yield(self, name: str, step: tuple) -> bool:
        return step[0] == "join" and len(step) > 2 and bool(step[2])


THREADS = ThreadHandles()


class ThreadTwin(Twin):
    """``join`` on real threads: the run's record of thread ``name`` (``real.thread_done``)."""

    __slots__ = ()
    accepts = ThreadModel.accepts

    def step(self, thread: int, step: tuple):
        real = self.real
        index = real.program.thread_index.get(self.name)
        if index == thread:
            raise RuntimeError(JOIN_SELF)
        done = real.thread_done.get(index)
        if done is None:
            raise RuntimeError(JOIN_UNSTARTED)
        real.block(lambda s: done.wait(s) if s > 0 else done.is_set(), None, done.is_set)
        return None


class SpawnTwin(Twin):
    __slots__ = ()
    accepts = Spawner.accepts

    def step(self, thread: int, step: tuple):
        name, fn, args = step[1], step[2], step[3]
        taken = f"thread name {name!r} already used"
        self.real.start_thread(name, (lambda: fn(*args)) if args else fn, taken)
        return None
