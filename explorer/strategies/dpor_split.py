"""Optimal DPOR split among work units: the coordinator owns the top of the tree.

A unit of a parallel dpor search (:class:`SplitDPOR` made from a start) replays a
prefix of *frozen* points, down to its *root*, and explores the subtree of one branch
of the root's wakeup tree, exactly as the serial search would (:class:`.dpor.DPOR`);
it never backtracks to its root or above. The frozen points belong to the
coordinator, which keeps one :class:`_Record` of each (its sleep and done sets, and
its branches in exploration order, each as it was handed out): other units explore
their other branches.

A race the unit finds whose reversal point is frozen is first inserted as the serial
search would, as far as the unit can: down through the branches it explores itself (the
frozen path). Where the insertion would meet branches of other units, the unit sends it
to the coordinator instead (an *escaped* race), and the coordinator goes on with the
serial insertion against its record (:class:`Registry`): dropped when a later branch
covers it, else a new branch at the end (a new unit).

Dropped, because serial DPOR plants such a race in the later branch's plan before that
branch starts, and here it runs already. Serial DPOR counts on that planting: it drops a
race reversed inside the later branch when a thread asleep there (explored by an earlier
branch) is a weak initial of the reversal. In a unit, those threads are *foreign*
(``DPOR._explored``): at a frozen point, the threads of the branches other units explore
side by side with this one (not those explored there before the point was frozen: their
races were planted already), and the threads asleep because of those there; below the
root, every thread asleep on entering the subtree, wherever it ran
(:meth:`SplitDPOR._inherited`). A foreign thread
covers a reversal only when the reversal starts with a step of it, so the unit plans the
rest itself. What it plans beyond the serial search's plans ends in threads that all
sleep and is abandoned (counted as pruned); sleep sets are untouched, so the units
complete exactly the serial search's executions, one per trace, in another order.

``split()`` hands back the shallowest point with more than one branch: each branch
becomes a unit rooted there, its ``done`` set as the serial search would have it when
that branch starts (the threads of the branches before it), and the point becomes a
record of the coordinator's.
"""

from __future__ import annotations

import uuid

from .dpor import DPOR, _chain, _plant, _Point, _weak_initial

#: A start: the root, the record id of each frozen point (0..root), the points, and per
#: frozen point the threads that ran there in branches other units explore (foreign).
Start = tuple


class SplitDPOR(DPOR):
    """:class:`.dpor.DPOR` that can be split among work units (see the module docstring).

    Made without a start it is the serial search, and, in the coordinator, the first
    slice of a parallel one. ``outbox`` holds what the coordinator must hear: escaped
    races and the records of the points ``split()`` froze.
    """

    def __init__(self, start: Start | None = None) -> None:
        super().__init__()
        self.ids: tuple = ()  # per frozen point, its record's id in the coordinator's Registry
        self.outbox: list[tuple] = []
        self.sent: set = set()  # escaped races already in the outbox: every run may find them again
        self.sent_unhashable: list = []  # those whose steps hold a list
        self.registry: Registry | None = None
        self.inherited: list[frozenset] = []  # per point below the root, see _inherited
        self.foreign: tuple = ()  # per frozen point, the threads that ran there in other units' branches
        self.foreign_at: list[frozenset] = []  # per frozen point, those and the threads asleep because of them
        if start is not None:
            self.root, self.ids, flat, self.foreign = start
            self.points = _unpack(flat)
            self.replay = len(self.points)
            carried: frozenset = frozenset()
            for level in range(self.root + 1):
                carried = self.foreign[level] | (self.points[level].sleep & carried)
                self.foreign_at.append(carried)

    # -- in a unit: races whose reversal point is frozen ------------------------------

    def _insert(self, position: int, v: list[tuple[int, tuple]]) -> None:
        root = self.root
        point = self.points[position]
        if position > root:
            if not self._explored(point, v, self._inherited(position)):
                _plant(point.wakeup, v, self.dependent, point.enabled)
            return
        if self._explored(point, v, self.foreign_at[position]):
            return
        dependent = self.dependent
        level, nodes = position, point.wakeup
        while level <= root:
            own = nodes[0]  # the frozen path: the one branch this unit explores there
            rest = _weak_initial(own[0], own[1], v, dependent)
            if rest is None:
                self._escape(("insert", self.ids[level], own[0], tuple(v), level == position))
                return
            if not own[2] or not rest:
                return  # its own branch covers it
            nodes, v, level = own[2], rest, level + 1
        _plant(nodes, v, dependent, None)

    def _inherited(self, position: int) -> frozenset:
        """The threads asleep at ``position`` (below the root) that were asleep on entering
        the subtree: each ran at a frozen point, or above it. They do not cover a race
        reversed here. A thread asleep serially covers a reversal because the runs of its
        branch, and of the branches explored after it, plant what it does not run itself;
        some of those branches are other units' (foreign), whose races that the serial
        search would plan in this subtree are not sent here. Not only the foreign threads:
        a thread that ran at the top, before any split, leans on them too (lastzero(4),
        split after a few runs: the reader, asleep since the first point, covered a
        reversal whose trace serially came from the branch of the writer W1 at the third
        point, another unit's; an outcome was lost). Kept per point until the search
        backtracks past it."""
        known, points, base = self.inherited, self.points, self.root + 1
        if base == 0:
            return frozenset()
        if not known:
            known.append(points[base].sleep)
        while len(known) <= position - base:
            known.append(known[-1] & points[base + len(known)].sleep)
        return known[position - base]

    def end(self) -> None:
        super().end()
        del self.inherited[len(self.points) - self.root - 1:]  # the points kept keep theirs

    def _fallback(self, position: int, thread: int) -> None:
        if position > self.root:
            return super()._fallback(position, thread)
        point = self.points[position]
        planned = point.done | point.sleep | {point.chosen}
        if any(other not in planned for other in point.enabled):
            self._escape(("all", self.ids[position]))

    def _failed(self, position: int) -> None:
        if position > self.root:
            return super()._failed(position)
        # The unit's own step at a frozen point failed: later branches there must not let it sleep.
        self._escape(("fatal", self.ids[position], self.points[position].chosen))

    def _escape(self, message: tuple) -> None:
        try:
            if message in self.sent:
                return
            self.sent.add(message)
        except TypeError:  # a step holding a list (a spawn's arguments): found by equality
            if message in self.sent_unhashable:
                return
            self.sent_unhashable.append(message)
        self.outbox.append(message)

    # -- splitting -------------------------------------------------------------------

    def split(self) -> list[Start]:
        """Hand back what is left to explore as starts of new units (``SplitDPOR(start)``),
        and stop: between executions only. The first goes on from here below the
        shallowest point with more than one branch; each later branch there follows as a
        start of its own. The points frozen by it are recorded in ``outbox``."""
        if self.finished:
            return []
        self.finished = True
        points, root = self.points, self.root
        cut = next((n for n in range(root + 1, len(points)) if len(points[n].wakeup) > 1), None)
        if cut is None:
            return [(root, self.ids, _pack(points), self.foreign)]
        ids = self.ids + (None,) * (cut - root)
        ids = tuple(uuid.uuid4().hex if rid is None else rid for rid in ids)
        for level in range(cut + 1):
            if level <= root and self.ids[level] is not None:
                continue  # recorded already
            point = points[level]
            parent = (ids[level - 1], points[level - 1].chosen) if level else None
            record = _Record(parent, point)
            nodes = point.wakeup if level == cut else point.wakeup[:1]
            done, foreign = set(point.done), set()
            for n, node in enumerate(nodes):
                # the first branch is explored from here on; nobody compares a race with it
                record.branches.append([node[0], node[1], _copy(node[2]) if n else None,
                                        frozenset(done), frozenset(point.fatal), frozenset(foreign)])
                done.add(node[0])
                foreign.add(node[0])
            self.outbox.append(("record", ids[level], record))
        later = points[cut].wakeup[1:]
        del points[cut].wakeup[1:]
        # Below the old root, the points down to the cut were this unit's: what ran there
        # before planted its races here. At the cut, the branch explored now and each later
        # one run in units of their own, side by side: foreign to the branches after them.
        above = self.foreign + (frozenset(),) * (cut - root - 1)
        starts = [(cut, ids, _pack(points), above + (frozenset(),))]
        done = set(points[cut].done) | {points[cut].chosen}
        foreign = {points[cut].chosen}
        for node in later:
            levels = [(p.enabled, p.pending, p.sleep, p.done, p.fatal, p.unsure, p.chosen) for p in points[:cut]]
            levels.append((points[cut].enabled, points[cut].pending, points[cut].sleep, frozenset(done),
                           points[cut].fatal, points[cut].unsure, node[0]))
            starts.append((cut, ids, _pack(_frozen(levels, node)), above + (frozenset(foreign),)))
            done.add(node[0])
            foreign.add(node[0])
        return starts

    # -- in the coordinator ----------------------------------------------------------

    def escaped(self, messages: list[tuple]) -> list[Start]:
        """The starts of the units that the races ``messages`` escaped from a unit call for,
        after the records ``split()`` left here (see :class:`Registry`)."""
        if self.registry is None:
            self.registry = Registry(self.dependent)
        own, self.outbox = self.outbox, []
        return self.registry.take(own + list(messages))


class _Record:
    """A frozen point, as the coordinator knows it: what the units that pass it need.

    ``branches``: ``[thread, step, planned subtree as handed out (None for the first,
    explored by the unit that froze the point), done, fatal, foreign]`` in exploration
    order, with the done, fatal and foreign sets the unit exploring that branch was given.
    """

    __slots__ = ("branches", "done", "enabled", "fatal", "parent", "pending", "sleep", "unsure")

    def __init__(self, parent: tuple | None, point: _Point) -> None:
        self.parent = parent  # (the record above, the thread that ran there), None at the top
        self.enabled, self.pending, self.sleep = point.enabled, point.pending, point.sleep
        self.done = frozenset(point.done)  # explored before the first branch
        self.fatal = set(point.fatal)
        self.unsure = frozenset(point.unsure)  # as frozen: later ones are foreign to later branches
        self.branches: list[list] = []

    def __reduce__(self):
        # the planned subtrees nest as deep as an execution is long: flat, for pickle
        return _record, (self.parent, self.enabled, self.pending, self.sleep, self.done, self.fatal, self.unsure,
                         [b[:2] + [None if b[2] is None else _flatten([b[2]])] + b[3:] for b in self.branches])


def _record(parent, enabled, pending, sleep, done, fatal, unsure, branches) -> _Record:
    record = _Record.__new__(_Record)
    record.parent, record.enabled, record.pending, record.sleep, record.done = parent, enabled, pending, sleep, done
    record.fatal, record.unsure = fatal, unsure
    record.branches = [b[:2] + [None if b[2] is None else _unflatten(b[2])[0]] + b[3:] for b in branches]
    return record


class Registry:
    """The coordinator's records of the frozen points, and the serial insertion of the
    races that units send it (``take``)."""

    def __init__(self, dependent) -> None:
        self.dependent = dependent
        self.records: dict[str, _Record] = {}

    def take(self, messages: list[tuple]) -> list[Start]:
        starts = []
        for message in messages:
            kind = message[0]
            if kind == "record":
                self.records[message[1]] = message[2]
            elif kind == "insert":
                starts += self._insert(message[1], message[2], list(message[3]), message[4])
            elif kind == "all":
                starts += self._every_thread(message[1])
            else:
                starts += self._fatal(message[1], message[2])
        return starts

    def _insert(self, rid: str, own: int, v: list[tuple[int, tuple]], top: bool) -> list[Start]:
        """The serial insertion of ``v`` at the record's point, after the unit's own branch
        ``own`` (``top``: the point where the race was reversed, not one below it)."""
        record = self.records[rid]
        branches = record.branches
        later = branches[_index(branches, own) + 1:]
        for branch in later:
            rest = _weak_initial(branch[0], branch[1], v, self.dependent)
            if rest is not None:
                # A later branch covers it, and is another unit's: there the threads of the
                # branches before it are foreign (SplitDPOR._insert), so that unit plans in
                # its own subtree what the serial search would have planted there from here.
                return []
        thread = v[0][0]
        if top and thread not in record.enabled:
            return []  # a thread waiting here cannot start a branch here (see dpor._plant)
        node = _chain(v)
        return self._append(rid, node, run=thread in record.enabled)

    def _append(self, rid: str, node: list, run: bool = True) -> list[Start]:
        """``node`` as a new last branch of the record's point, and its unit's start."""
        record = self.records[rid]
        foreign = frozenset(branch[0] for branch in record.branches)  # each another unit's
        done = record.done | foreign
        record.branches.append([node[0], node[1], _copy(node[2]), done, frozenset(record.fatal), foreign])
        # a planned branch whose thread waits there would be dropped at once: no unit for it
        return [self._start(rid, node, done, record.fatal, foreign)] if run else []

    def _every_thread(self, rid: str) -> list[Start]:
        """:meth:`.dpor.DPOR._fallback` at the record's point: every thread that could run there
        and is neither planned, explored nor asleep there starts a branch."""
        record = self.records[rid]
        planned = record.done | record.sleep | {branch[0] for branch in record.branches}
        return [start for thread in record.enabled if thread not in planned
                for start in self._append(rid, [thread, record.pending[thread], None])]

    def _fatal(self, rid: str, own: int) -> list[Start]:
        """The step of branch ``own`` failed at the record's point: later branches, whose
        units let it sleep, run again without (the serial search knows it failed before
        it starts them); then as :meth:`_every_thread`."""
        record = self.records[rid]
        record.fatal.add(own)
        starts = []
        for branch in record.branches[_index(record.branches, own) + 1:]:
            if own in branch[3] and own not in branch[4]:
                branch[4] = frozenset(record.fatal)
                node = [branch[0], branch[1], _copy(branch[2] or [])]
                starts.append(self._start(rid, node, branch[3], record.fatal, branch[5]))
        return starts + self._every_thread(rid)

    def _start(self, rid: str, node: list, done: frozenset, fatal, foreign: frozenset) -> Start:
        """The start of a unit that explores ``node`` at the record's point (``foreign``:
        the threads of ``done`` whose branches are other units')."""
        chain = []  # (record id, the thread that runs there), from the top down
        thread = node[0]
        while rid is not None:
            chain.append((rid, thread))
            parent = self.records[rid].parent
            rid, thread = parent if parent is not None else (None, None)
        chain.reverse()
        levels, foreigners = [], []
        for n, (rid, thread) in enumerate(chain):
            record = self.records[rid]
            if n + 1 < len(chain):
                branch = record.branches[_index(record.branches, thread)]
                levels.append((record.enabled, record.pending, record.sleep, branch[3], record.fatal, record.unsure,
                               thread))
                foreigners.append(branch[5])
            else:
                levels.append((record.enabled, record.pending, record.sleep, done, fatal, record.unsure, thread))
                foreigners.append(foreign)
        return (len(chain) - 1, tuple(rid for rid, _thread in chain), _pack(_frozen(levels, node)), tuple(foreigners))


def _index(branches: list[list], thread: int) -> int:
    for n, branch in enumerate(branches):
        if branch[0] == thread:
            return n
    raise AssertionError(f"[explorer internal bug] dpor unit's branch {thread} is not in its point's record")


def _frozen(levels: list[tuple], node: list) -> list[_Point]:
    """The points of a unit's prefix, from ``(enabled, pending, sleep, done, fatal, unsure,
    thread run)`` per level, the last running ``node`` (with the subtree planned below it): each
    wakeup tree holds the path only, a node whose children are the next point's tree."""
    points = []
    below = _copy([node])
    for enabled, pending, sleep, done, fatal, unsure, thread in reversed(levels):
        wakeup = below if not points else [[thread, pending[thread], below]]
        point = _Point(list(enabled), tuple(pending), wakeup, frozenset(sleep), unsure)
        point.done, point.fatal = set(done), set(fatal)
        points.append(point)
        below = wakeup
    points.reverse()
    return points


def _flatten(roots: list[list]) -> list[list[tuple]]:
    """Wakeup trees (lists of ``[thread, step, children]``, which may share lists) as a flat
    list of lists of ``(thread, step, index of the children's list)``, the ``roots`` first:
    a tree nests as deep as an execution is long, too deep for pickle and deepcopy."""
    index = {id(nodes): n for n, nodes in enumerate(roots)}
    order = list(roots)
    flat = []
    for nodes in order:  # grows as it goes
        entries = []
        for thread, step, children in nodes:
            k = -1 if children is None else index.get(id(children))  # -1: an open node (dpor._plant)
            if k is None:
                k = index[id(children)] = len(order)
                order.append(children)
            entries.append((thread, step, k))
        flat.append(entries)
    return flat


def _unflatten(flat: list[list[tuple]]) -> list[list]:
    lists: list[list] = [[] for _ in flat]
    for nodes, entries in zip(lists, flat):
        nodes.extend([thread, step, None if k < 0 else lists[k]] for thread, step, k in entries)
    return lists


def _copy(nodes: list | None) -> list | None:
    return None if nodes is None else _unflatten(_flatten([nodes]))[0]


def _pack(points: list[_Point]) -> tuple:
    """A unit's points as a start carries them (see :func:`_flatten`)."""
    fields = [(p.enabled, p.pending, p.sleep, p.done, p.fatal, p.unsure, p.chosen) for p in points]
    return fields, _flatten([p.wakeup for p in points])


def _unpack(packed: tuple) -> list[_Point]:
    fields, flat = packed
    lists = _unflatten(flat)
    points = []
    for (enabled, pending, sleep, done, fatal, unsure, chosen), wakeup in zip(fields, lists):
        point = _Point(list(enabled), tuple(pending), wakeup, frozenset(sleep), unsure)
        point.done, point.fatal, point.chosen = set(done), set(fatal), chosen
        points.append(point)
    return points
