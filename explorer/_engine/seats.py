"""Symmetry of seats: threads built from one function whose arguments differ by a
renaming of locks, as the dining philosophers' seats do.

``partial(philosopher, "fork 0", "fork 1")`` and ``partial(philosopher, "fork 1",
"fork 2")`` are not twins (:func:`.state_keys.symmetric_groups`), but moving every
philosopher one seat on, and every fork with them, maps each state to one whose future
is the same up to that renaming. Such a renaming is a *seat move*: a permutation of the
threads with a permutation of the locks under which every thread's factory becomes the
factory of the thread it moves to (:func:`seat_moves`, the automorphisms of a graph of
threads and the locks their arguments name).

That the factories match does not show that the bodies treat lock names only as names:
a body may compare them (``min(left, right)``), write one to a variable, or name a lock
itself. So the graph walk (:mod:`.model_graph`) checks the moves as it learns each
thread's steps: every step a thread takes from a local state, the thread a move sends it
to is run too, with the same values sent, and must take the same step with its locks
renamed (the same value written, the same value returned, an exception where it raised
one). A move that fails the check ends the walk with :class:`SeatsBroken`; the strategy
walks again without seats. Why checking only the steps learned is enough: every state
the walk reaches is made of local states it learned, and each step it takes from one has
been checked for every move, so by induction on the path every reachable state is the
image under a move of a state the walk explored, with the image's steps the images of
that state's steps (docs/architecture.md, Symmetry).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from .frames import Opaque, token
from .program import Program
from .state_keys import CHANNELS, renumbered_epoch

#: Moves the walk tries per state at most (each state is compared under every move):
#: past it, seats stand aside and only twins are used.
MAX_MOVES = 64


class SeatsBroken(Exception):  # noqa: N818 - a signal, not an error
    """A thread did not take the renamed step of the thread a seat move maps to it."""


class Move(NamedTuple):
    """One seat move: thread ``i`` goes to ``threads[i]``, lock number ``n`` (the walk's
    numbering) to ``locks[n]``; ``names`` renames locks by name."""

    threads: tuple[int, ...]
    locks: tuple[int, ...]
    names: dict


def seat_moves(program: Program, locks: dict[str, int], reentrant: list[bool]) -> tuple[Move, ...]:
    """Every seat move of the program, the identity first, when one of them renames a lock
    (threads that only trade places are twins: :func:`.state_keys.symmetric_groups` covers
    them, and more cheaply); () otherwise, or past :data:`MAX_MOVES` moves. ``locks``
    numbers the locks as the walk does; ``reentrant`` says which are RLocks."""
    if program.plain is not None or len(locks) < 2:
        return ()
    shapes = [_shape(factory, locks) for factory in program.factories]
    if all(shape is None or not shape[1] for shape in shapes):
        return ()  # no thread is given a lock's name: nothing to rename
    import networkx as nx
    from networkx.algorithms.isomorphism import GraphMatcher

    graph = nx.Graph()
    named = {n for shape in shapes if shape is not None for _slot, n in shape[1]}
    for n in range(len(locks)):  # a lock no argument names keeps its name: it may be named in a body
        graph.add_node(("lock", n), colour=("lock", reentrant[n]) if n in named else ("fixed lock", n))
    for i, shape in enumerate(shapes):
        graph.add_node(("thread", i), colour=("fixed thread", i) if shape is None else ("thread", shape[0]))
        for slot, n in shape[1] if shape is not None else ():
            slots = graph.get_edge_data(("thread", i), ("lock", n), {}).get("slots", frozenset())
            graph.add_edge(("thread", i), ("lock", n), slots=slots | {slot})
    matcher = GraphMatcher(graph, graph, node_match=lambda a, b: a["colour"] == b["colour"],
                           edge_match=lambda a, b: a["slots"] == b["slots"])
    names = list(locks)
    moves = []
    renames = False
    for mapping in matcher.isomorphisms_iter():
        if len(moves) >= MAX_MOVES:
            return ()
        threads = tuple(mapping["thread", i][1] for i in range(len(shapes)))
        lock_moves = tuple(mapping["lock", n][1] for n in range(len(locks)))
        renames = renames or lock_moves != tuple(range(len(locks)))
        moves.append(Move(threads, lock_moves, {names[n]: names[m] for n, m in enumerate(lock_moves)}))
    if not renames:
        return ()
    moves.sort(key=lambda move: (move.threads != tuple(range(len(shapes))), move.threads, move.locks))
    return tuple(moves)


def _shape(factory, locks: dict[str, int]):
    """``(shape, slots)`` for a ``functools.partial`` of a function: its token with each
    argument that names a lock replaced by a placeholder, and ``(slot, lock number)`` for
    each such argument; None for any other factory (it stays in its seat)."""
    if factory.__class__ is not functools.partial:
        return None
    slots = []
    args = []
    for position, value in enumerate(factory.args):
        if value.__class__ is str and value in locks:
            slots.append((position, locks[value]))
            value = _SLOT
        args.append(value)
    keywords = []
    for name, value in sorted(factory.keywords.items()):
        if value.__class__ is str and value in locks:
            slots.append((name, locks[value]))
            value = _SLOT
        keywords.append((name, value))
    try:
        shape = (token(factory.func), tuple(_SLOT if a is _SLOT else token(a) for a in args),
                 tuple((name, _SLOT if v is _SLOT else token(v)) for name, v in keywords))
        hash(shape)
    except (Opaque, TypeError):
        return None
    return shape, tuple(slots)


class _Slot:
    """Where a factory's argument names a lock."""

    def __repr__(self) -> str:
        return "<a lock>"


_SLOT = _Slot()


def composition(moves: tuple[Move, ...]) -> list[list[int]]:
    """``table[a][b]``: the index of the move that does ``moves[b]`` and then ``moves[a]``."""
    index = {(move.threads, move.locks): n for n, move in enumerate(moves)}
    table = []
    for after in moves:
        row = []
        for first in moves:
            threads = tuple(after.threads[t] for t in first.threads)
            locks = tuple(after.locks[n] for n in first.locks)
            found = index.get((threads, locks))
            assert found is not None, "[explorer internal bug] seat moves that are not a group"
            row.append(found)
        table.append(row)
    return table


def renamed_step(step, names: dict):
    """A step with its lock renamed (a read or write stays as it is)."""
    kind = step[0]
    if kind == "acquire" or kind == "release":
        renamed = names.get(step[1], step[1])
        if renamed != step[1]:
            return tuple.__new__(step.__class__, (kind, renamed) + tuple(step[2:]))
    return step


def moved_epoch(locks: tuple[int, ...], perm: list[int], item: tuple, at: int = CHANNELS) -> tuple:
    """A racing epoch's entry (:func:`.state_keys.renumbered_epoch`, its channel bits from
    bit ``at`` on) under a seat move: thread ``i`` called ``perm[i]``, and each lock's bit
    among its knowers moved to the lock ``locks`` sends it to."""
    (owner, epoch), mask, listed = renumbered_epoch(perm, item, at)
    channels = mask >> at
    moved = 0
    while channels:
        bit = channels & -channels
        moved |= 1 << locks[bit.bit_length() - 1]
        channels ^= bit
    return ((owner, epoch), (mask & ((1 << at) - 1)) | moved << at, listed)
