"""Optimal dynamic partial order reduction: one execution per Mazurkiewicz trace, none wasted.

Two steps of different threads are *dependent* when they touch the same variable and
one writes, or take the same lock. Executions that differ only in the order of
independent steps are equivalent (one Mazurkiewicz trace), and every verdict explorer
gives (final states, deadlocks, lost updates, races, lock orders) is the same for all
of them, so one per trace is enough.

This is Abdulla, Aronis, Jonsson and Sagonas's optimal DPOR (POPL 2014). After each
execution the strategy looks for *races*: a step and an earlier dependent step of
another thread with no other step ordered between them. To reverse a race it builds
the sequence ``v`` that runs the later step first (the steps after the earlier one that
do not depend on it, then the later step) and inserts ``v`` in the *wakeup tree* of the
point where the race began: an ordered tree of sequences still to run from there. A
sequence whose trace is already covered (one of its *weak initials* is a thread already
explored there, or a branch of the tree is a prefix of it up to equivalence) is not
inserted. Sleep sets (Godefroid 1996) keep each trace from being run twice: a thread
already explored at a point sleeps until a dependent step wakes it.

Without locks, every execution is complete and of a new trace: nothing is abandoned.
Locks block, which the theory leaves out: an execution whose every enabled thread sleeps
can still occur there; it is abandoned and counted as pruned, not as an execution.
Two acquires of one lock race (the one who gets the lock first may change); a release
and the acquire it lets through do not, since they cannot both be enabled. Other steps
that may wait race by the classic rule (Flanagan and Godefroid, POPL 2005; see
``_races_of``), and a thread whose branch had such a race covers no reversal there.
"""

from __future__ import annotations

from bisect import bisect_left

from .._engine.watchdog import check_deadline
from ..objects.base import ACQUIRE, REACQUIRE, RELEASE
from ..objects.dependence import dependence, dependent, touches_everything
from .base import Abandon


#: What a re-entrant acquire or release of a lock its thread holds is replaced by for the
#: race analysis: nobody else can touch the lock meanwhile, so it conflicts with nothing.
_LOCAL = ("local", None)


def _plain_role(step: tuple) -> tuple | None:
    """A step's part in a lock's life when every acquire and release is of a plain lock."""
    kind = step[0]
    if kind == "acquire":
        return (ACQUIRE, step[1]) if len(step) == 2 else None
    if kind == "release":
        return (RELEASE, step[1])
    return None


def _without_reentry(events: list[tuple[int, tuple]], role=_plain_role, reentrant=None,
                     unheld: set | None = None) -> list[tuple[int, tuple]]:
    """``events`` with every re-entrant acquire and inner release made local.

    Follows who holds each lock as the engine does: any release of a plain Lock frees
    it, even by another thread (``threading`` allows that); a step ``threading`` refuses
    (releasing an RLock one does not hold, waiting on a condition without its lock)
    changes nothing, its RuntimeError raised in the thread, which may catch it and go on.
    ``role(step)`` is ``(ACQUIRE | RELEASE | RELEASE_ALL | REACQUIRE, lock)`` for a step
    that takes or gives a lock (a condition's wait gives it up entirely, its wake-up
    re-takes it); ``reentrant`` maps a lock to whether it is an RLock (None: all plain).
    The positions of releases of a plain Lock nobody holds go in ``unheld``.
    """
    locks = _Locks(role, reentrant)
    for thread, step in events:
        locks.add(thread, step)
    if unheld is not None:
        unheld |= locks.unheld
    return locks.events


class _Locks:
    """:func:`_without_reentry` kept from one execution to the next: rewound to the first
    step the next one does not share with it, then extended by its new steps."""

    __slots__ = ("events", "holder", "holders", "reentrant", "role", "unheld")

    def __init__(self, role=_plain_role, reentrant=None) -> None:
        self.role = role
        self.reentrant = reentrant
        self.events: list[tuple[int, tuple]] = []
        self.holder: dict[str, tuple[int, int]] = {}  # lock -> (thread, depth); replaced, never changed
        self.holders: list[dict] = []  # per step, ``holder`` before it
        self.unheld: set[int] = set()  # positions of releases of a plain Lock nobody held

    def rewind(self, position: int) -> None:
        if position < len(self.events):
            self.holder = self.holders[position]
            del self.events[position:]
            del self.holders[position:]
            if self.unheld:
                self.unheld = {u for u in self.unheld if u < position}

    def add(self, thread: int, step: tuple) -> None:
        self.holders.append(self.holder)
        part = self.role(step)
        if part is not None:
            what, lock = part
            holder = self.holder
            held = holder.get(lock)
            changed = None  # the new (thread, depth), or () to free the lock
            if what == ACQUIRE:
                if held is not None and held[0] == thread:
                    changed = (thread, held[1] + 1)
                    step = _LOCAL
                else:
                    changed = (thread, 1)
            elif what == REACQUIRE:
                changed = (thread, step[2])
            elif held is None or held[0] != thread:  # not its holder
                reentrant = self.reentrant
                rlock = reentrant is not None and reentrant.get(lock, True)
                if what == RELEASE and held is None and not rlock:
                    self.unheld.add(len(self.events))
                elif what == RELEASE and not rlock and held is not None:
                    changed = ()  # a Lock's foreign release frees it
            elif what == RELEASE and held[1] > 1:
                changed = (thread, held[1] - 1)
                step = _LOCAL
            else:
                changed = ()
            if changed is not None:
                holder = dict(holder)
                if changed:
                    holder[lock] = changed
                else:
                    del holder[lock]
                self.holder = holder
        self.events.append((thread, step))


#: What a wakeup tree holds for a step that failed (:meth:`DPOR._fail_sooner`): the end of
#: a run, which conflicts with every step.
FAILS = ("end", "a failing step")


def _weak_initial(thread: int, step: tuple, v: list[tuple[int, tuple]], dependent=dependent) -> list | None:
    """``v`` without ``thread``'s first step if ``thread`` can start ``v`` (a *weak initial*):
    its first step in ``v`` depends on no earlier step there, or, having no step in ``v``,
    its ``step`` depends on none of them. None when it cannot.

    >>> from explorer import read, write
    >>> v = [(1, read("y")), (2, write("x", 1))]
    >>> _weak_initial(2, write("x", 1), v), _weak_initial(0, read("x"), v)
    ([(1, read('y'))], None)
    >>> _weak_initial(0, read("z"), v) == v
    True
    """
    for k, (owner, own) in enumerate(v):
        if owner == thread:
            for j in range(k):
                if dependent(v[j][1], own):
                    return None
            return v[:k] + v[k + 1:]
    for _owner, other in v:
        if dependent(step, other):
            return None
    return v


class _Order:
    """Happens-before over one execution, step by step: program order, and each step after
    the dependent steps before it. Only the latest of those that are ordered among
    themselves is needed: the last write of a variable (it follows every earlier access
    of it), the reads since that write, and the last step on each other object. A
    thread's first step also follows the step that started it, and a join follows the
    joined thread's last step (what enables each).
    """

    __slots__ = ("after", "everything", "footprint", "index", "last_global", "last_of", "last_use", "last_write",
                 "previous", "reads", "spawned", "undo")

    def __init__(self, after: list[int], footprint, index: dict, spawned: dict,
                 everything=touches_everything) -> None:
        self.after = after  # per step, the bitmask of the steps that happen before it
        self.last_of: dict[int, int] = {}
        self.previous: list[int | None] = []  # per step, its thread's step before it
        self.last_write: dict[str, int] = {}
        self.reads: dict[str, list[int]] = {}
        self.last_use: dict[str, int] = {}
        self.footprint = footprint
        self.index = index  # thread name -> number
        self.spawned = spawned  # thread -> the step that started it
        self.last_global: int | None = None  # the last step dependent with every step
        self.everything = everything  # which steps are dependent with every step
        self.undo: list[tuple] = []  # per step, what ``add`` replaced: ``rewind`` puts it back

    def before(self, thread: int, step: tuple) -> int:
        """The steps so far that happen before ``thread`` taking ``step`` next."""
        after = self.after
        mask = 0
        previous = self.last_of.get(thread)
        if previous is None:
            previous = self.spawned.get(thread)
        if previous is not None:
            mask = after[previous] | (1 << previous)
        last_global = self.last_global
        if last_global is not None:
            mask |= after[last_global] | (1 << last_global)
        if self.everything(step):
            for last in self.last_of.values():
                mask |= after[last] | (1 << last)
            return mask
        kind = step[0]
        if kind == "read" or kind == "write" or kind == "update":
            write = self.last_write.get(step[1])
            if write is not None:
                mask |= after[write] | (1 << write)
            if kind != "read":
                for read in self.reads.get(step[1], ()):
                    mask |= after[read] | (1 << read)
        elif kind != "local":
            for name in self.footprint(step):
                use = self.last_use.get(name)
                if use is not None:
                    mask |= after[use] | (1 << use)
            if kind == "join":
                joined = self.index.get(step[1])
                end = None if joined is None else self.last_of.get(joined)
                if end is not None:
                    mask |= after[end] | (1 << end)
        return mask

    def add(self, j: int, thread: int, step: tuple) -> None:
        """Step ``j`` is ``thread`` taking ``step``."""
        previous = self.last_of.get(thread)
        self.previous.append(self.spawned.get(thread) if previous is None else previous)
        self.last_of[thread] = j
        if self.everything(step):
            self.undo.append((thread, previous, self.last_global))
            self.last_global = j
            return
        kind = step[0]
        if kind == "read":
            self.undo.append((thread, previous, self.last_global, _READ, step[1]))
            self.reads.setdefault(step[1], []).append(j)
        elif kind == "write" or kind == "update":
            name = step[1]
            self.undo.append((thread, previous, self.last_global, _WRITE, name, self.last_write.get(name),
                              self.reads.get(name)))
            self.last_write[name] = j
            self.reads[name] = []
        elif kind != "local":
            last_use = self.last_use
            names = self.footprint(step)
            self.undo.append((thread, previous, self.last_global, _USE, [(name, last_use.get(name)) for name in names]))
            for name in names:
                last_use[name] = j
        else:
            self.undo.append((thread, previous, self.last_global))

    def rewind(self, position: int) -> None:
        """Back to the order of the steps before ``position``, undoing the later ``add``s."""
        undo, last_of = self.undo, self.last_of
        while len(undo) > position:
            entry = undo.pop()
            thread, previous, self.last_global = entry[0], entry[1], entry[2]
            if previous is None:
                del last_of[thread]
            else:
                last_of[thread] = previous
            if len(entry) == 3:
                continue
            what = entry[3]
            if what is _READ:
                self.reads[entry[4]].pop()
            elif what is _WRITE:
                name, write, reads = entry[4], entry[5], entry[6]
                if write is None:
                    del self.last_write[name]
                else:
                    self.last_write[name] = write
                if reads is None:
                    del self.reads[name]
                else:
                    self.reads[name] = reads
            else:
                last_use = self.last_use
                for name, use in reversed(entry[4]):
                    if use is None:
                        last_use.pop(name, None)
                    else:
                        last_use[name] = use
        del self.previous[position:]


_READ, _WRITE, _USE = "read", "write", "use"  # what an _Order.undo entry puts back


def _plain_may_block(step: tuple) -> bool:
    return step[0] == "acquire" and len(step) == 2


def _own(step: tuple) -> tuple:
    return (step[1],)


class _Point:
    """One step of the current execution: what could run, what ran, and what is left to try.

    ``wakeup`` is the wakeup tree of this point: nodes ``[thread, step, children]`` in the
    order they are to run; the first is the thread running here now. A node whose children
    are None is a backtracking point (:meth:`DPOR._fallback`, a failing step's
    alternatives), not a race's reversal: the first sequence inserted through it becomes its
    children, and a node that starts running with None runs on freely.
    """

    __slots__ = ("chosen", "done", "enabled", "fatal", "pending", "sleep", "unsure", "wakeup")

    def __init__(self, enabled: list[int], pending: tuple, wakeup: list, sleep: frozenset,
                 unsure: frozenset = frozenset()) -> None:
        self.enabled = enabled
        self.pending = pending  # the step every thread would take here (None once finished)
        self.wakeup = wakeup
        self.chosen = wakeup[0][0]
        self.done: set[int] = set()
        self.fatal: set[int] = set()  # threads whose step here ended their execution (it failed)
        self.sleep = sleep
        # Threads explored or asleep here whose branch left a race of its step here to the
        # classic rule (DPOR._fallback): they sleep, but cover no reversal (DPOR._explored).
        self.unsure: set[int] = set(unsure)


#: The key, among the locks' names in ``acquires``, of the positions of the steps dependent
#: with every step (``touches_everything``): a lock's name is a string.
_EVERYTHING = ("everything",)


class DPOR:
    """Depth first over one execution per Mazurkiewicz trace (see the module docstring).

    ``choose`` also receives the engine's pending steps (``needs_pending``): which
    step each thread would take next, the only thing it needs to know about them.
    """

    needs_pending = True
    reduced = True  # one run stands for many: the search looks for shorter traces after
    incomplete_reason = None
    #: The deepest point this search never backtracks to: -1 here; a work unit's root in
    #: :mod:`.dpor_split`, whose points down to it other units explore from too.
    root = -1

    def __init__(self) -> None:
        self.ended: str | None = None  # how the last execution ended; the search sets it
        self.points: list[_Point] = []
        self.replay = 0  # leading points whose choice is replayed as it is
        self.position = 0
        self.finished = False
        self.pending_now: list | None = None
        self.pruned = 0
        self.fresh = 0
        self.after: list[int] = []  # per step of the execution: the steps that happen before it
        # the race analysis of the last execution analysed, and how many of its steps the
        # coming one shares with it (_add_races)
        self.locks: _Locks | None = None
        self.order: _Order | None = None
        self.acquires: dict[str, list[int]] = {}  # per lock, the positions of the steps that take it
        self.kept = 0
        self.footprint = _own
        self.role = _plain_role
        self.may_block = _plain_may_block
        self.reentrant: dict[str, bool] | None = None  # lock -> whether an RLock (None: every lock plain)
        self.thread_index: dict[str, int] = {}
        self.dependent = dependent
        self.everything = touches_everything
        self.infeasible = 0  # planned runs whose next thread could not run (counted as pruned)
        self.unrun = False  # the last run stopped before its new branch's first step
        self.cut = False  # the last run's last step ended it (a failure): nothing runs after it
        self.branch = -1

    def bind(self, program) -> None:
        """What dpor needs to know of the program: which objects a step touches, which
        steps take or give a lock, which may wait, and the threads' numbers by name."""
        footprint = program.footprint
        self.footprint, self.role, self.may_block = footprint, program.lock_role, program.may_block
        self.reentrant = program.reentrant
        self.thread_index = program.thread_index
        # fair schedules: a step that may yield decides whom its thread owes, which every
        # other step's place before or after it changes (docs/architecture.md, Fair schedules)
        # (and a wake-up that may be spurious: Program.touches_everything)
        special = program.fair or program.spurious
        self.everything = program.touches_everything if special else touches_everything
        self.dependent = dependence(footprint, self.everything if special else None)

    def begin(self) -> bool:
        self.position = 0
        self.branch = self.replay - 1  # where this execution's new branch begins
        self.fresh = self.replay - 1 if self.replay else 0  # the first step not run before
        self.kept = min(self.kept, self.fresh)  # (a run whose branch never ran is not analysed)
        return not self.finished

    def repeats(self, previous: int) -> int:
        """How many leading choices of the coming execution are the last one's, below its
        branch point (whose ``previous`` events the engine has): the engine takes those
        threads without asking (``Execution.run``'s ``repeat``). The branch point itself is
        asked: its thread may not be able to run there. Its call gives ``pending_now``, the
        run's own list of pending steps; a run that ends before it (only a program that is
        not deterministic can: the last run went on from there) leaves None, and no steps
        are taken as left waiting."""
        self.pending_now = None
        shared = min(self.replay - 1, previous) if self.replay else 0
        self.position = shared
        return shared

    def choose(self, enabled: list[int], pending: list) -> int:
        position = self.position
        self.position = position + 1
        self.pending_now = pending
        points = self.points
        if position < self.replay:
            chosen = points[position].chosen
            if position == self.branch and chosen not in enabled:
                # The new branch's thread cannot run here: only a step that may wait makes
                # a planned branch infeasible. It stands for no trace; drop it.
                self.infeasible += 1
                self.pruned += 1
                self.unrun = True  # the branch never ran: nothing of it to analyse
                raise Abandon
            return chosen
        sleep = self._sleep_after(position)
        unsure = sleep & points[position - 1].unsure if position and sleep else frozenset()
        planned = points[position - 1].wakeup[0][2] if position else None
        if planned:  # the wakeup tree says what runs next
            if planned[0][0] not in enabled or planned[0][0] in sleep:
                # Only a blocking object can make a planned sequence infeasible; the run
                # stands for no trace, so it is dropped like a run whose threads all sleep.
                self.infeasible += 1
                self.pruned += 1
                raise Abandon
            points.append(_Point(list(enabled), tuple(pending), planned, sleep, unsure))
            return planned[0][0]
        awake = [t for t in enabled if t not in sleep]
        if not awake:
            self.pruned += 1
            raise Abandon
        last = points[position - 1].chosen if position else None
        chosen = last if last in awake else awake[0]
        points.append(_Point(list(enabled), tuple(pending), [[chosen, pending[chosen], []]], sleep, unsure))
        return chosen

    def _sleep_after(self, position: int) -> frozenset:
        """The sleeping threads at ``position``: those asleep or done before the last step
        whose pending step is independent of it."""
        if position == 0:
            return frozenset()
        before = self.points[position - 1]
        taken = before.pending[before.chosen]
        dependent = self.dependent
        return frozenset(t for t in before.sleep | (before.done - before.fatal)
                         if t != before.chosen and not dependent(before.pending[t], taken))

    def end(self) -> None:
        executed = self.position if self.position <= len(self.points) else len(self.points)
        del self.points[executed:]
        failed = self.ended not in ("completed", "deadlocked", "abandoned")
        if failed and self.points:
            self._failed(len(self.points) - 1)
        self.cut = failed
        unrun = self.unrun
        if unrun:
            self.unrun = False
        else:
            self._add_races()
        points = self.points
        for index in range(len(points) - 1, self.root, -1):
            point = points[index]
            if not unrun:
                point.done.add(point.chosen)
            # else the branch's thread could not run here (not even started yet, in a run
            # that planned a spawned thread's step before its spawn): it explored nothing,
            # so it neither sleeps in the branches after it nor covers their reversals
            unrun = False
            del point.wakeup[0]  # the branch just explored, with what was planned below it
            if point.wakeup:
                branch = point.wakeup[0]
                point.chosen = branch[0]
                if branch[2] is None:
                    branch[2] = []  # it runs freely now: nothing inserted later may wait below it
                del points[index + 1:]
                self.replay = index + 1
                return
            points.pop()
        self.finished = True

    def _failed(self, position: int) -> None:
        """The step chosen at ``position`` failed. A failing step ends the execution, so it
        conflicts with every other step: what could have run instead is tried there, and
        the failing thread never sleeps."""
        point = self.points[position]
        point.fatal.add(point.chosen)
        self._fallback(position, point.chosen)

    def _add_races(self) -> None:
        """For each race of the execution's new steps, plan the sequence that reverses it.

        Steps before the first new choice ran the same way in an earlier execution, whose
        analysis already planned their races; what happens before them is kept too.
        """
        points = self.points
        # What the analysis of the steps this execution shares with the last one analysed
        # worked out is kept (``kept`` of them): who holds each lock, happens-before, each
        # lock's acquires. It is rewound to there and goes on over the new steps only.
        fresh = min(self.fresh, len(points))
        kept = min(self.kept, fresh)
        locks, order, acquires = self.locks, self.order, self.acquires
        if locks is None:
            locks = self.locks = _Locks(self.role, self.reentrant)
            order = self.order = _Order(self.after, self.footprint, self.thread_index, {}, self.everything)
        locks.rewind(kept)
        for point in points[kept:]:
            chosen = point.chosen
            locks.add(chosen, point.pending[chosen])
        events = locks.events
        unheld = locks.unheld  # releases of a Lock nobody held: a later acquire may come first
        after = self.after  # per event, the bitmask of the events that happen before it
        del after[fresh:]  # a work unit's first run has none yet: all are worked out
        known = len(after)
        order.rewind(kept)
        order.spawned = self._births()
        for taken in acquires.values():
            while taken and taken[-1] >= kept:
                taken.pop()
        for j in range(kept, len(events)):
            thread, step = events[j]
            if j >= known:
                after.append(order.before(thread, step))
            order.add(j, thread, step)
            role = self.role(step) if step[0] != "local" else None
            if role is not None and (role[0] == ACQUIRE or role[0] == REACQUIRE or j in unheld):
                # a release of a Lock nobody holds raises (a thread may catch it and go on):
                # an acquire by another thread before it makes it a foreign release instead
                acquires.setdefault(role[1], []).append(j)
            elif role is None and (step[0] == "acquire" or step[0] == "locked"):
                # a try may take any lock it touches; Lock.locked() sees whether one is held:
                # a later acquire by another thread races with either (found by a review:
                # locked() run before the other thread's acquire was never tried after it)
                for name in self.footprint(step):
                    acquires.setdefault(name, []).append(j)
            if step[0] != "local" and self.everything(step):
                acquires.setdefault(_EVERYTHING, []).append(j)  # every acquire races with it too
        self.kept = len(events)
        for j in range(fresh, len(events)):
            thread, step = events[j]
            self._races_of(events, after, j, thread, step, after[j], order.previous[j], acquires)
            if not j & 255:
                check_deadline()
        if self.cut and events:
            self._fail_sooner(events, after)
        pending = self.pending_now
        if pending is None:
            return
        for thread, step in enumerate(pending):  # steps left waiting when the execution ended
            if step is not None:
                # a thread started during the run that never ran waits after the step that
                # started it, as its first step would (found by the property tier: 'A: acq? m,
                # r x | B: w x=0, spawn B1{acq m} | C: r y' never let B1 take m before A tried)
                previous = order.last_of.get(thread)
                if previous is None:
                    previous = order.spawned.get(thread)
                self._races_of(events, after, len(events), thread, step, order.before(thread, step),
                               previous, acquires)

    def _births(self) -> dict[int, int]:
        """Per thread started during the execution (a spawn, a pool's worker), the step
        that started it: the step after which it first has a pending step."""
        points = self.points
        final = self.pending_now
        if not points or final is None or len(final) == len(points[0].pending):
            return {}
        born = {}
        for p, point in enumerate(points):
            now = point.pending
            later = points[p + 1].pending if p + 1 < len(points) else final
            for t in range(len(later)):
                if later[t] is not None and (t >= len(now) or now[t] is None) and t not in born:
                    born[t] = p
        return born

    def _races_of(self, events, after, j, thread, step, before: int, previous: int | None,
                  acquires: dict[str, list[int]]) -> None:
        """Reverse every race of event ``j`` (or of a step left pending, at ``j == len(events)``);
        ``previous`` is the thread's step before it."""
        kind = step[0]
        local = kind == "local"
        if local or kind == "read" or kind == "write" or not self.may_block(step):
            # A step that never waits races with the dependent steps just before it. A step
            # on nothing (an RLock taken again or let go once of several) races only with a
            # step dependent with every step: whether its thread has ended, or a wake-up
            # that may be spurious, whose deadlock shows only once every other thread has
            # moved on, depends on this step too (found by a review: 'A: await cond y (1) |
            # B: acq m, acq m, acq? l | C: w x=-2', m an RLock, never ran B's second acquire
            # before A's wake-up; and is_alive never ran after a thread's re-entrant acquire)
            covered = 0  # what happens before the events before this one: not immediate
            rest = before
            while rest:  # from the latest down, passing over what a later one covers: one per thread at most
                top = rest.bit_length() - 1
                covered |= after[top]
                rest &= ~(after[top] | (1 << top))
            immediate = before & ~covered
            dependent = self.dependent if not local else self._global_first
            while immediate:
                low = immediate & -immediate
                immediate ^= low
                i = low.bit_length() - 1
                other, earlier = events[i]
                if other != thread and dependent(earlier, step):
                    self._reverse_race(events, after, i, thread, step)
            return
        alone = 0 if previous is None else after[previous] | (1 << previous)
        role = self.role(step)
        if role is not None and role[0] == ACQUIRE and kind == "acquire":
            # An acquire races with every earlier acquire of its lock by another thread
            # that nothing besides the lock orders before it: the release between two
            # acquires is how the lock orders them, so it is looked past. A release never
            # races with a later acquire: the lock is held until it, so the acquire
            # cannot come first.
            # Every step that may take the lock (an acquire, a condition's re-acquire, a try) has
            # it in its footprint, so _Order chains them all: once one is ordered before this
            # thread's previous step, so is every earlier one. A try that lost to this acquire
            # running first gives up: reversed alike.
            taken = acquires.get(role[1], ())
            racing = []
            for index in range(bisect_left(taken, j) - 1, -1, -1):
                i = taken[index]
                if (alone >> i) & 1:
                    break
                if events[i][0] != thread:
                    racing.append(i)
            for i in reversed(racing):
                self._reverse_race(events, after, i, thread, step)
            # A step dependent with every step (another's end, is_alive, a timed join, the
            # program's end) races with this acquire too, which the lock does not order: the
            # classic rule, as below (found by a review: a daemon's 'with lock:' after main's
            # end never ran before it, and dpor missed the daemon's write)
            points = self.points
            for i in acquires.get(_EVERYTHING, ()):
                if i >= j:
                    break
                other = events[i][0]
                if other != thread and not (alone >> i) & 1:
                    points[i].unsure.add(other)
                    self._fallback(i, thread)
            return
        # Any other step on an object may wait for another thread's step, so reversing a
        # race could plan a run that cannot happen. For these the classic rule (Flanagan and
        # Godefroid, POPL 2005) is used instead: at each earlier dependent step of another
        # thread not ordered before this one except through the object, try this thread
        # there if it could run, else every thread that could.
        # The branch of the thread that ran at such a step then has a race whose reversal
        # no wakeup sequence plans: the branches the classic rule adds run freely there, and
        # a reversal inside them must not be judged covered by that thread, asleep there
        # (found by the property tier: 'A: get? jobs | B: r y, r x, put jobs=x | C: w x=1'
        # never ran C's write before B's read with A's get after B's put). It is unsure.
        dependent = self.dependent
        points = self.points
        for i in range(j):
            other, earlier = events[i]
            if other != thread and not (alone >> i) & 1 and dependent(earlier, step):
                points[i].unsure.add(other)
                self._fallback(i, thread)

    def _global_first(self, earlier: tuple, _step: tuple) -> bool:
        """Whether a step on nothing is dependent with ``earlier``: one dependent with every step."""
        return earlier[0] != "local" and self.everything(earlier)

    def _fallback(self, position: int, thread: int) -> None:
        # A backtracking set, as Flanagan and Godefroid have it: the thread starts a branch
        # unless it ran, sleeps or starts one here already. Not _insert: its test that a
        # branch covers a sequence holds for a whole race reversal, not for this one step
        # (with a step of the thread before the blocking one, it took that step to commute
        # past the racing step and judged the branch covered).
        # Every thread that could run there starts a branch, not only the racing one: with
        # that one alone, a thread explored at the point sleeps in its branch and, as a weak
        # initial of a later reversal there, let that reversal be judged covered although
        # the run it stood for had the racing steps the other way round (found by the slow
        # property tier: 'A: get? jobs | B: r x | C: signal cond x=1, put jobs=0').
        # The branches it adds are open (children None): a leaf of a wakeup tree stands for
        # every sequence it starts, since the run from it reverses their races in turn; a
        # backtracking point is no reversal and does not. Taken as a leaf, it dropped a
        # reversal planned from a thread explored here before it ('A: put jobs, is_set go |
        # B: w x | C: join jobs, set go, r x': C's branch dropped B's reversal of its write
        # with C's read, then ran C's set before A's is_set, and the reversal of those was
        # judged covered by B, asleep there; A=0 with C=0 was never run).
        point = self.points[position]
        planned = {node[0] for node in point.wakeup} | point.done | point.sleep
        for other in point.enabled:
            if other not in planned:
                point.wakeup.append([other, point.pending[other], None])

    def _fail_sooner(self, events, after) -> None:
        """The execution ended at a failing step: every other thread was closed where it was,
        and what closing shows (a ``finally`` that yields: a close error) depends on where
        that was. So the failure races with each other thread's last step before it that
        does not happen before it: plan, there, the failure first (the planned step stands
        for it as a step that conflicts with every step, as a run's end does, so that no
        thread explored there covers the plan by commuting with it)."""
        last = len(events) - 1
        failing, _step = events[last]
        before = after[last]
        raced = set()
        for i in range(last - 1, -1, -1):  # (at or above a work unit's root: _insert sends it up)
            thread = events[i][0]
            if thread == failing or thread in raced:
                continue
            raced.add(thread)
            if not (before >> i) & 1:
                v = [events[k] for k in range(i + 1, last) if not (after[k] >> i) & 1]
                v.append((failing, FAILS))
                self._insert(i, v)

    def _reverse_race(self, events, after, i: int, thread: int, step: tuple) -> None:
        """Plan, where event ``i`` ran, the steps of the execution after it that do not
        happen after it, then ``thread``'s ``step`` (which does).

        A step that failed ends the execution: it conflicts with every step, so it happens
        after each of them and is never planned before another thread's racing step (where
        it would end the run before that step: 'A: spawn A1{acq? l, rel l}, r x | B: w x=1
        | C: acq l', l an RLock, never ran B's write before A's read with A1 taking l)."""
        end = len(events) - 1 if self.cut else len(events)
        v = [events[k] for k in range(i + 1, end) if not (after[k] >> i) & 1]
        v.append((thread, step))
        self._insert(i, v)

    def _insert(self, position: int, v: list[tuple[int, tuple]]) -> None:
        """Add ``v`` to the wakeup tree at ``position`` unless a run already planned or
        done there covers it (Abdulla et al.'s insertion, with weak initials)."""
        point = self.points[position]
        if not self._explored(point, v):
            _plant(point.wakeup, v, self.dependent, point.enabled)

    def _explored(self, point: _Point, v: list[tuple[int, tuple]], foreign: frozenset = frozenset()) -> bool:
        """Whether ``v``'s trace starts with a thread explored at ``point`` already.

        A thread that is a weak initial of ``v`` without a step in it covers ``v`` only
        when the races found in its branch are planned here: not when its step failed
        there (the failure ends its runs), nor when one of them was left to the classic
        rule (``unsure``), nor when it is ``foreign`` (its branch is another work unit's,
        see :mod:`.dpor_split`)."""
        pending = point.pending
        dependent = self.dependent
        unsure = point.unsure
        for thread in point.sleep | point.done:
            if _weak_initial(thread, pending[thread], v, dependent) is not None and (
                    (thread not in point.fatal and thread not in foreign and thread not in unsure)
                    or any(owner == thread for owner, _ in v)):
                return True
        return False


def _plant(nodes: list, v: list[tuple[int, tuple]], dependent, enabled: list[int] | None) -> None:
    """Insert ``v`` in the wakeup tree ``nodes`` (a point's, whose ``enabled`` threads are
    given, or a subtree's, ``enabled=None``) unless a planned branch covers it."""
    top = True
    while True:
        for node in nodes:
            rest = _weak_initial(node[0], node[1], v, dependent)
            if rest is not None:
                if not rest:
                    return  # a planned branch already leads there
                if node[2] is None:  # a backtracking point: the reversal is planned below it
                    node[2] = [_chain(rest)]
                    return
                if not node[2]:
                    return  # a leaf: the run from it reverses this race in turn
                nodes, v, top = node[2], rest, False
                break
        else:
            if enabled is not None and top and v[0][0] not in enabled:
                # A thread waiting here cannot start a branch here (a try-acquire's race
                # with an acquire, while the lock is held): the race is not reversible.
                return
            nodes.append(_chain(v))
            return


def _chain(v: list[tuple[int, tuple]]) -> list:
    """``v`` as a wakeup tree's branch: each step the only child of the one before."""
    chain: list = []
    for thread, step in reversed(v):
        chain = [[thread, step, chain]] if chain else [[thread, step, []]]
    return chain[0]
