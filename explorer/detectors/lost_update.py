"""Lost updates (P4 in Berenson et al., "A Critique of ANSI SQL Isolation Levels").

Thread T reads v, another thread U writes v, then T writes v: T's write was computed
from a read older than U's write, so U's write is lost.
"""

from __future__ import annotations

from ..findings import RawFinding
from .._text import shown


def lost_updates(events: list[tuple], names: tuple[str, ...]) -> list[RawFinding]:
    """Every lost update in one execution, one finding per (variable, pair of threads).

    >>> from explorer import read, write
    >>> events = [(0, read("x"), 0, [0, 1]), (1, read("x"), 0, [0, 1]),
    ...           (1, write("x", 1), None, [0, 1]), (0, write("x", 1), None, [0])]
    >>> [f.message for f in lost_updates(events, ("A", "B"))]  # doctest: +NORMALIZE_WHITESPACE
    ["lost update of 'x': B's write x = 1 at step 3 is overwritten at step 4 by A,
      whose write was computed from its read x -> 0 at step 1, before B's write"]
    """
    return [lost_update_finding(events, names, *found) for found in lost_update_keys(events)]


def lost_update_keys(events: list[tuple]) -> list[tuple]:
    """``(key, stale read, lost write, overwrite)`` positions of each lost update in one
    execution, the first per key: the hot path's form, which words nothing."""
    latest_read: dict[tuple[int, str], int] = {}
    writes: dict[str, list[tuple[int, int]]] = {}
    found: dict[tuple, tuple] = {}
    for position, (thread, step, _value, _enabled) in enumerate(events):
        kind = step[0]
        if kind == "read":
            latest_read[thread, step[1]] = position
        elif kind == "write":
            var = step[1]
            history = writes.setdefault(var, [])
            read_at = latest_read.get((thread, var))
            if read_at is not None:
                for written_at, writer in reversed(history):
                    if written_at < read_at:
                        break
                    if writer != thread:
                        key = ("lost-update", var) + tuple(sorted((thread, writer)))
                        if key not in found:
                            found[key] = (key, read_at, written_at, position)
                        break
            history.append((position, thread))
        elif kind == "update":  # atomic: its write is computed from a fresh read
            writes.setdefault(step[1], []).append((position, thread))
            latest_read[thread, step[1]] = position
    return list(found.values())


class LostUpdateKeys:
    """:func:`lost_update_keys` of a search's executions one after another, each call
    analysing only the events past the prefix it shares with the previous call's.

    Generators cannot be copied, so every execution runs from the start, and consecutive
    executions of a depth-first search share everything up to the branch point. The
    state after each position is not copied: each position's change is undone, from the
    previous call's last event back to the shared prefix, then the new suffix is analysed.

    >>> from explorer import read, write
    >>> A, B = 0, 1
    >>> lost = LostUpdateKeys()
    >>> first = [(A, read("x"), 0, [0, 1]), (B, read("x"), 0, [0, 1]),
    ...          (B, write("x", 1), None, [0, 1]), (A, write("x", 1), None, [0])]
    >>> lost.of(first, 0) == lost_update_keys(first)
    True
    >>> second = first[:2] + [(A, write("x", 1), None, [0, 1]), (B, write("x", 1), None, [1])]
    >>> lost.of(second, 2) == lost_update_keys(second)  # resumed after the two reads
    True
    """

    __slots__ = ("events", "found", "latest_read", "undo", "writes")

    def __init__(self) -> None:
        self.events: list[tuple] = []  # the events of the last call
        self.latest_read: dict[tuple[int, str], int] = {}
        self.writes: dict[str, list[tuple[int, int]]] = {}
        self.found: dict[tuple, tuple] = {}
        # per position analysed: a read's or update's previous latest read (-1: none); a
        # write's key found there, or None
        self.undo: list = []

    def of(self, events: list[tuple], agreed: int) -> list[tuple]:
        """``lost_update_keys(events)``, where ``events[:agreed]`` equal the last call's events."""
        undo = self.undo
        if agreed < len(undo):
            self._rewind(agreed)
        latest_read, writes, found = self.latest_read, self.writes, self.found
        append = undo.append
        for position in range(len(undo), len(events)):
            thread, step = events[position][0], events[position][1]
            kind = step[0]
            if kind == "read":
                append(latest_read.get((thread, step[1]), -1))
                latest_read[thread, step[1]] = position
            elif kind == "write":
                var = step[1]
                history = writes.get(var)
                if history is None:
                    history = writes[var] = []
                added = None
                read_at = latest_read.get((thread, var))
                if read_at is not None:
                    for written_at, writer in reversed(history):
                        if written_at < read_at:
                            break
                        if writer != thread:
                            key = ("lost-update", var) + ((thread, writer) if thread < writer else (writer, thread))
                            if key not in found:
                                found[key] = (key, read_at, written_at, position)
                                added = key
                            break
                append(added)
                history.append((position, thread))
            elif kind == "update":
                var = step[1]
                history = writes.get(var)
                if history is None:
                    history = writes[var] = []
                history.append((position, thread))
                append(latest_read.get((thread, var), -1))
                latest_read[thread, var] = position
            else:
                append(None)
        self.events = events
        return list(found.values())

    def _rewind(self, agreed: int) -> None:
        """Undo the last call's positions from its end back to ``agreed``."""
        events, undo = self.events, self.undo
        latest_read, writes, found = self.latest_read, self.writes, self.found
        for position in range(len(undo) - 1, agreed - 1, -1):
            thread, step = events[position][0], events[position][1]
            kind = step[0]
            if kind == "read" or kind == "update":
                before = undo[position]
                if before < 0:
                    del latest_read[thread, step[1]]
                else:
                    latest_read[thread, step[1]] = before
                if kind == "update":
                    writes[step[1]].pop()
            elif kind == "write":
                writes[step[1]].pop()
                if undo[position] is not None:
                    del found[undo[position]]
        del undo[agreed:]


def lost_update_finding(events, names, key, read_at, written_at, position) -> RawFinding:
    """The finding for one lost update found by :func:`lost_update_keys`."""
    var = key[1]
    thread, writer = events[position][0], events[written_at][0]
    t, u = names[thread], names[writer]
    lost = events[written_at][1]
    message = (f"lost update of {var!r}: {u}'s write {var} = {shown(lost[2])} at step {written_at + 1} is "
               f"overwritten at step {position + 1} by {t}, whose write was computed from its read "
               f"{var} -> {shown(events[read_at][2])} at step {read_at + 1}, before {u}'s write")
    marks = {read_at: f"{t}'s stale read", written_at: "lost write", position: "overwrites it"}
    return RawFinding("lost-update", "error", thread, key, message,
                      {"variable": var, "stale_read": read_at, "lost_write": written_at,
                       "overwrite": position, "marks": marks, "position": len(events)})
