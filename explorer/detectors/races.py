"""Data races: two accesses to one variable from different threads, at least one a
write, that happens-before does not order.

Happens-before is program order plus the edges steps on objects create (release ->
later acquire of a lock or semaphore, notify -> the wake-up it causes, set -> wait,
put -> the get of that item, barrier arrivals -> departures, spawn -> the child's first
step, a thread's end -> its join, submit -> the task, the task's end -> result),
tracked with vector clocks. Within one execution a racing pair is keyed by each
access's thread and its index among that thread's steps, which is cheap and stable
across executions; :func:`merge_races` later folds the keys that land on the same
pair of source lines into one finding per pair of lines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from operator import itemgetter
from types import MappingProxyType

from ..findings import RawFinding
from ..objects.base import edges


def unordered_pairs(accesses) -> list[tuple[int, int]]:
    """Positions ``(earlier, later)`` of every conflicting pair not ordered by happens-before.

    ``accesses`` is a sequence of ``(thread, kind, target)`` with ``kind`` one of
    ``read``, ``write``, ``acquire``, ``release``; threads are any hashable labels.

    >>> unordered_pairs([("A", "read", "x"), ("B", "write", "x"), ("A", "write", "x")])
    [(0, 1), (1, 2)]
    >>> unordered_pairs([("A", "acquire", "l"), ("A", "write", "x"), ("A", "release", "l"),
    ...                  ("B", "acquire", "l"), ("B", "write", "x"), ("B", "release", "l")])
    []
    """
    clocks: dict = {}  # thread -> {thread: epoch}
    lock_clocks: dict = {}
    history: dict = {}  # variable -> {thread: [(epoch, is_write, position)]}
    pairs = []
    for position, (thread, kind, target) in enumerate(accesses):
        clock = clocks.get(thread)
        if clock is None:
            clock = clocks[thread] = {thread: 1}
        if kind == "acquire":
            released = lock_clocks.get(target)
            if released:
                for other, epoch in released.items():
                    if epoch > clock.get(other, 0):
                        clock[other] = epoch
        elif kind == "release":
            lock_clocks[target] = dict(clock)
            clock[thread] += 1
        else:
            write = kind == "write"
            per_thread = history.setdefault(target, {})
            for other, earlier in per_thread.items():
                if other == thread:
                    continue
                seen = clock.get(other, 0)
                for epoch, was_write, at in reversed(earlier):
                    if epoch <= seen:
                        break  # ordered before this access, and so is everything before it
                    if was_write or write:
                        pairs.append((at, position))
            per_thread.setdefault(thread, []).append((clock[thread], write, position))
    pairs.sort()
    return pairs


def race_pairs(events: list[tuple], k: int) -> list[tuple[tuple, int, int]]:
    """``(key, earlier, later)`` for every racing pair in one execution's engine events.

    The same relation as :func:`unordered_pairs`, specialised for the hot path: threads
    are the indices ``0..k-1``, and the key (flat, to hash fast) names each access by its
    thread, its index among that thread's steps, and whether it writes, so it is stable
    across executions: ``("race", variable, thread, index, writes, thread, index, writes)``.
    An ``update`` writes, atomically: two updates never race with each other.

    Happens-before comes from the edges the steps on objects recorded (``events.syncs``:
    publishing joins the thread's clock into a channel and starts a new epoch, absorbing
    joins a channel into the thread's clock); a lock's acquire and release, unrecorded,
    absorb and publish on the lock (:func:`explorer.objects.base.edges`).
    """
    syncs = getattr(events, "syncs", None)
    clocks = [[0] * k for _ in range(k)]
    for thread in range(k):
        clocks[thread][thread] = 1
    channels: dict = {}
    # variable -> per thread, [its accesses, its writes and updates, its reads and writes], each a
    # list of (epoch, writes, position, ordinal). A thread's epochs only grow, so the accesses
    # another thread has not seen are a suffix of each list: an access looks back only at those
    # it conflicts with (a read at writes, an update at what is not an update), never at all.
    history: dict = {}
    ordinals = [0] * k
    found = []
    for position, event in enumerate(events):
        thread = event[0]
        step = event[1]
        kind = step[0]
        ordinal = ordinals[thread]
        ordinals[thread] = ordinal + 1
        if kind == "read" or kind == "write" or kind == "update":
            clock = clocks[thread]
            writes = kind != "read"
            var = step[1]
            lists = history.get(var)
            if lists is None:
                lists = history[var] = [[[], [], []] for _ in range(k)]
            conflicting = 1 if kind == "read" else 0 if kind == "write" else 2
            hits = []
            for other in range(k):
                if other == thread:
                    continue
                earlier = lists[other][conflicting]
                seen = clock[other]
                for index in range(len(earlier) - 1, -1, -1):
                    epoch, wrote, at, number = earlier[index]
                    if epoch <= seen:
                        break  # ordered before this access, and so is everything before it
                    hits.append((at, ("race", var, other, number, wrote, thread, ordinal, writes)))
            if hits:
                hits.sort()
                found += [(key, at, position) for at, key in hits]
            access = (clock[thread], writes, position, ordinal)
            mine = lists[thread]
            mine[0].append(access)
            if writes:
                mine[1].append(access)
            if kind != "update":
                mine[2].append(access)
            continue
        for publishes, channel in edges(syncs, position, step):
            clock = clocks[thread]
            if publishes:
                if channel.__class__ is tuple and channel[0] == "start":  # a new thread starts here
                    child = clocks[channel[1]]
                    for other in range(k):
                        if clock[other] > child[other]:
                            child[other] = clock[other]
                else:
                    known = channels.get(channel)
                    if known is None:
                        channels[channel] = clock[:]
                    else:
                        for other in range(k):
                            if clock[other] > known[other]:
                                known[other] = clock[other]
                clock[thread] += 1
            else:
                if channel.__class__ is tuple and channel[0] == "thread":  # a join: all it did
                    known = clocks[channel[1]]
                else:
                    known = channels.get(channel)
                    if known is None:
                        continue
                for other in range(k):
                    if known[other] > clock[other]:
                        clock[other] = known[other]
    return found


#: A racing pair's earlier position: :meth:`RacePairs.of` lists the pairs of one access by it.
_earlier = itemgetter(1)
#: An access's epoch (its thread's clock when it ran), as :meth:`RacePairs.of` keeps it.
_epoch = itemgetter(0)


class RacePairs:
    """:func:`race_pairs` and :func:`witness_ranks` of a search's executions one after
    another, each call analysing only the events past the prefix it shares with the
    previous call's.

    Generators cannot be copied, so every execution runs from the start, and consecutive
    executions of a depth-first search share everything up to the branch point. The
    state after each position is not copied: an access's change is undone from the event
    itself (a thread's step count, the lists its access was appended to), a step on an
    object restores the clocks it changed, and the pairs found past the shared prefix are
    dropped. ``k`` may grow between calls (threads started during a run).

    >>> from explorer import read, write
    >>> A, B = 0, 1
    >>> pairs = RacePairs(2)
    >>> first = [(A, read("x"), 0, [0, 1]), (B, write("x", 1), None, [0, 1])]
    >>> pairs.of(first, 0, 2) == race_pairs(first, 2)
    True
    >>> second = first[:1] + [(A, write("x", 1), None, [0, 1]), (B, write("x", 1), None, [1])]
    >>> pairs.of(second, 1, 2) == race_pairs(second, 2)  # resumed after A's read
    True
    >>> pairs.ranks(second, 0, pairs.of(second, 3, 2)) == witness_ranks(second, 0, race_pairs(second, 2))
    True
    """

    __slots__ = ("batches", "calls", "channels", "clocks", "counts", "events", "found", "high", "history", "k",
                 "noted", "ordinals", "saved")

    def __init__(self, k: int) -> None:
        self.calls = 0
        self.noted: list = []
        self.batches: list[tuple[int, int]] = []
        self._start(k)

    def _start(self, k: int) -> None:
        self.settle()
        self.k = k
        self.events: list[tuple] = []  # the events of the last call
        self.clocks = [[0] * k for _ in range(k)]
        for thread in range(k):
            self.clocks[thread][thread] = 1
        self.channels: dict = {}
        self.history: dict = {}  # as in race_pairs
        self.ordinals = [0] * k
        self.found: list[tuple] = []
        # the caller's own list beside ``found``: what it keeps for each pair it has seen, in
        # order, cut with ``found`` to the pairs a call shares with the last (search.py's tally
        # entries, so that a pair the last run showed too is not looked up again)
        self.noted: list = []
        # The caller's counts of the pairs it has seen are kept lazily, so that a pair a call
        # shares with the last costs it nothing. It counts ``calls``; a batch ``(start,
        # mark)`` says that the entries it noted from ``noted[start]`` up to the next batch's
        # start were counted up to call ``mark``, and every later call shared them: each is
        # owed ``calls - mark``, added when it is dropped or when :meth:`settle` is called
        # (one list of pairs, each added in one step: a Ctrl-C cannot part a start from its
        # mark). ``high`` bounds the preemptions of the witnesses kept for all of ``noted``
        # from above (``tally._note_races``).
        self.batches: list[tuple[int, int]] = []
        self.high: float = -1
        self.counts: list[int] = []  # per position analysed, how many pairs were found before it
        self.saved: dict[int, list] = {}  # position of a step on an object -> what it changed, as it was

    def of(self, events: list[tuple], agreed: int, k: int) -> list[tuple[tuple, int, int]]:
        """``race_pairs(events, k)``, where ``events[:agreed]`` equal the last call's events.
        The list is the tracker's own: read it before the next call, and never change it."""
        if k > self.k:
            self._start(k)
        elif agreed < len(self.counts):
            self._rewind(agreed)
        k = self.k
        counts = self.counts
        syncs = getattr(events, "syncs", None)
        clocks, channels, history, ordinals, found = self.clocks, self.channels, self.history, self.ordinals, self.found
        saved = self.saved
        count = counts.append
        add = found.append
        for position in range(len(counts), len(events)):
            event = events[position]
            count(len(found))
            thread = event[0]
            step = event[1]
            kind = step[0]
            ordinal = ordinals[thread]
            ordinals[thread] = ordinal + 1
            if kind == "read" or kind == "write" or kind == "update":
                clock = clocks[thread]
                writes = kind != "read"
                var = step[1]
                lists = history.get(var)
                if lists is None:
                    lists = history[var] = [[[], [], []] for _ in range(k)]
                conflicting = 1 if kind == "read" else 0 if kind == "write" else 2
                base = -1  # where this access's pairs begin in found, once it has some
                merged = False  # pairs with two other threads' accesses: sorted by the earlier's position
                for other in range(k):
                    if other == thread:
                        continue
                    earlier = lists[other][conflicting]
                    # a thread's epochs rise along its list: the accesses this one has not
                    # seen are its tail
                    seen = clock[other]
                    if not earlier or earlier[-1][0] <= seen:
                        continue
                    first = 0 if earlier[0][0] > seen else bisect_right(earlier, seen, key=_epoch)
                    if base < 0:
                        base = len(found)
                    else:
                        merged = True
                    for _epoch_, wrote, at, number in (earlier[first:] if first else earlier):
                        add((("race", var, other, number, wrote, thread, ordinal, writes), at, position))
                if merged:
                    found[base:] = sorted(found[base:], key=_earlier)
                access = (clock[thread], writes, position, ordinal)
                mine = lists[thread]
                mine[0].append(access)
                if writes:
                    mine[1].append(access)
                if kind != "update":
                    mine[2].append(access)
                continue
            changed = None
            for publishes, channel in edges(syncs, position, step):
                clock = clocks[thread]
                if changed is None:
                    changed = saved[position] = []
                changed.append((clock, clock[:]))
                if publishes:
                    if channel.__class__ is tuple and channel[0] == "start":
                        child = clocks[channel[1]]
                        changed.append((child, child[:]))
                        for other in range(k):
                            if clock[other] > child[other]:
                                child[other] = clock[other]
                    else:
                        known = channels.get(channel)
                        if known is None:
                            channels[channel] = clock[:]
                            changed.append((None, channel))
                        else:
                            changed.append((known, known[:]))
                            for other in range(k):
                                if clock[other] > known[other]:
                                    known[other] = clock[other]
                    clock[thread] += 1
                else:
                    if channel.__class__ is tuple and channel[0] == "thread":
                        known = clocks[channel[1]]
                    else:
                        known = channels.get(channel)
                        if known is None:
                            continue
                    for other in range(k):
                        if known[other] > clock[other]:
                            clock[other] = known[other]
        self.events = events
        return found

    def _rewind(self, agreed: int) -> None:
        """Undo the last call's positions from its end back to ``agreed``."""
        events, counts, history, ordinals, saved = self.events, self.counts, self.history, self.ordinals, self.saved
        for position in range(len(counts) - 1, agreed - 1, -1):
            event = events[position]
            thread = event[0]
            step = event[1]
            kind = step[0]
            ordinals[thread] -= 1
            if kind == "read" or kind == "write" or kind == "update":
                mine = history[step[1]][thread]
                mine[0].pop()
                if kind != "read":
                    mine[1].pop()
                if kind != "update":
                    mine[2].pop()
                continue
            changed = saved.pop(position, None)
            if changed is not None:
                for target, before in reversed(changed):
                    if target is None:
                        del self.channels[before]
                    else:
                        target[:] = before
        cut = counts[agreed]
        if self.batches:  # pairs noted by a caller, owed counts perhaps
            self._pay_from(cut)
        del self.found[cut:]
        del self.noted[cut:]
        del counts[agreed:]

    def settle(self) -> None:
        """Add to each noted entry's count the calls it is owed (see ``batches``): before
        anyone reads the counts."""
        self._pay_from(0)
        if self.noted:
            self.batches.append((0, self.calls))

    def _pay_from(self, cut: int) -> None:
        """Pay what ``noted[cut:]`` is owed, and forget the calls it was counted up to."""
        noted, batches, calls = self.noted, self.batches, self.calls
        end = len(noted)
        while batches:
            start, mark = batches[-1]
            if mark != calls:
                owed = calls - mark
                for position in range(max(cut, start), end):
                    noted[position][2] += owed
            if start < cut:
                break
            batches.pop()
            end = start

    def around(self, key: tuple) -> tuple[int, int]:
        """For a racing pair's ``key`` of the last call: the position of the first racing
        thread's last access to the variable, and of the second's first (what
        :func:`witness_ranks` looks at)."""
        lists = self.history[key[1]]
        return lists[key[2]][0][-1][2], lists[key[5]][0][0][2]

    def ranks(self, events: list[tuple], preemptions: int, pairs: list[tuple[tuple, int, int]]) -> list[tuple]:
        """``witness_ranks(events, preemptions, pairs)`` for the events of the last call,
        from the accesses it keeps: each thread's first and last access to a variable."""
        schedule = tuple([event[0] for event in events])
        return [self.rank(pair, preemptions, schedule) for pair in pairs]

    def rank(self, pair: tuple[tuple, int, int], preemptions: int, schedule: tuple[int, ...]) -> tuple:
        """One pair's entry of :meth:`ranks`, ``schedule`` being the last call's threads in
        order: for a search that ranks only the pairs whose witness this run could be."""
        key, earlier, later = pair
        lists = self.history[key[1]]
        return (lists[key[2]][0][-1][2] < later and lists[key[5]][0][0][2] > earlier,
                preemptions, later - earlier, len(schedule), earlier, later, schedule)


def witness_ranks(events: list[tuple], preemptions: int, pairs: list[tuple[tuple, int, int]]) -> list[tuple]:
    """How well one execution shows each of its races: per racing pair ``(key, earlier,
    later)`` of :func:`race_pairs`, a rank; of the executions that show a race, the one
    with the lowest rank is its witness. ``events`` are the engine's events.

    A race is two accesses that nothing orders, yet a trace runs them in one order, and
    where each thread is done with the variable before the other starts (A, A, B, B for
    ``x += 1``) nothing goes wrong. So first come the traces that interleave around the
    pair: one racing access runs between two accesses of the other thread to the variable
    (A reads 0, B writes 1, A writes 1), where the other order reads or writes something
    else. Then the fewest preemptions, the racing steps closest together, the fewest
    steps, the earliest pair, and last the schedule itself, so that the choice never
    depends on the order in which a strategy runs its executions.

    >>> from explorer import read, write
    >>> A, B = 0, 1
    >>> serial = [(A, read("x")), (A, write("x", 1)), (B, read("x")), (B, write("x", 2))]
    >>> witness_ranks(serial, 0, [(None, 0, 3)])[0][0]  # serial: shows the race badly
    True
    >>> interleaved = [(A, read("x")), (B, read("x")), (B, write("x", 1)), (A, write("x", 1))]
    >>> witness_ranks(interleaved, 1, [(None, 0, 2)])[0][0]
    False
    """
    return witness_ranker(events)(preemptions, pairs)


def witness_ranker(events: list[tuple]):
    """``witness_ranks`` for one execution's ``events``, as a function of ``(preemptions,
    pairs)`` that reads the events once: for ranking many pairs of one witness in turn
    (a run of 1,000 writes races in 250,000 pairs)."""
    first, last, accessor = _first_and_last_accesses(events)
    length = len(events)
    schedule = tuple([event[0] for event in events])

    def ranks(preemptions: int, pairs: list[tuple[tuple, int, int]]) -> list[tuple]:
        return [(last[accessor[earlier]] < later and first[accessor[later]] > earlier,
                 preemptions, later - earlier, length, earlier, later, schedule)
                for _key, earlier, later in pairs]
    return ranks


def best_witnessed(events: list[tuple], preemptions: int, pairs) -> tuple[tuple, tuple] | None:
    """Of ``pairs`` (an iterable of racing pairs of the one execution ``events``), the one
    it shows best and its rank: ``min(zip(pairs, witness_ranks(...)))`` by rank, without
    a rank for each pair (two threads writing 500 times race in 250,000 pairs). The pairs
    share the rank's preemptions, length and schedule, so they are compared on the rest.
    None for no pairs."""
    first, last, accessor = _first_and_last_accesses(events)
    best = chosen = None
    for pair in pairs:
        _key, earlier, later = pair
        rank = (last[accessor[earlier]] < later and first[accessor[later]] > earlier, later - earlier, earlier)
        if best is None or rank < best:
            best, chosen = rank, pair
    if chosen is None:
        return None
    return chosen, witness_ranks(events, preemptions, [chosen])[0]


def _first_and_last_accesses(events: list[tuple]) -> tuple[dict, dict, list]:
    """Per (thread, variable), the position of its first access and of its last; and per
    position, the (thread, variable) of a read or write there (None for other steps)."""
    first: dict = {}
    last: dict = {}
    accessor = [None] * len(events)
    for position, event in enumerate(events):
        step = event[1]
        if step[0] in ACCESSES:
            key = accessor[position] = (event[0], step[1])
            if key not in first:
                first[key] = position
            last[key] = position
    return first, last, accessor


#: The kinds of step that access a variable.
ACCESSES = frozenset({"read", "write", "update"})


def race_finding(key: tuple, earlier: int, later: int, events: list[tuple]) -> RawFinding:
    """The finding for one racing pair; :func:`merge_races` words it once lines are known."""
    kinds = (events[earlier][1][0], events[later][1][0])
    marks = {earlier: f"racing {kinds[0]}", later: f"racing {kinds[1]}"}
    return RawFinding("race", "warning", events[later][0], key, "",
                      {"variable": key[1], "steps": (earlier, later), "marks": marks,
                       "position": len(events)})


def races(events: list[tuple], names: tuple[str, ...]) -> list[RawFinding]:
    """One finding per racing pair of steps in one execution."""
    return [race_finding(key, earlier, later, events)
            for key, earlier, later in race_pairs(events, len(names))]


def merge_races(findings: list) -> list:
    """Fold race findings on the same pair of source lines into one, and word them.

    Findings of other kinds pass through unchanged. Of the merged ones the trace that
    shows the race best is kept (:func:`witness_ranks`); ``occurrences`` is the largest
    count among them, a lower bound on the executions that showed the pair.
    """
    merged: dict = {}
    order = []
    for finding in findings:
        if finding.kind != "race":
            order.append(finding)
            continue
        key = (finding.details["variable"],) + tuple(sorted(
            _site(finding.trace.events, i) for i in finding.details["steps"]))
        best = merged.get(key)
        if best is None:
            merged[key] = finding
            order.append(key)
            continue
        occurrences = max(finding.occurrences, best.occurrences)
        if _score(finding) < _score(best):
            best = finding
        merged[key] = replace(best, occurrences=occurrences)
    return [_worded(merged[item]) if isinstance(item, tuple) else item for item in order]


def _score(finding) -> tuple:
    events = [(event.thread, (event.kind, event.target)) for event in finding.trace.events]
    earlier, later = finding.details["steps"]
    return witness_ranks(events, finding.trace.preemptions, [(None, earlier, later)])[0]


def _site(events: list, i: int) -> tuple:
    """Where the access ``events[i]`` is in the code; when the line is unknown, its thread
    and the thread's own step number (the same in every schedule of the trace, where its
    position in the schedule is not)."""
    event = events[i]
    if event.location is None:
        return (event.kind, event.thread, sum(1 for earlier in events[:i] if earlier.thread == event.thread))
    return (event.kind, event.location)


def _worded(finding):
    first, second = (finding.trace.events[i] for i in finding.details["steps"])
    var = finding.details["variable"]

    def said(event):
        where = f" at {event.location}" if event.location else ""
        return f"{event.thread}'s {event.describe()} (step {event.index + 1}{where})"

    message = (f"data race on {var!r}: {said(first)} and {said(second)} are not ordered by "
               f"happens-before; no lock held by both orders them, so they can run in either order")
    details = dict(finding.details)
    details["locations"] = (first.location, second.location)
    return replace(finding, message=message, details=MappingProxyType(details))
