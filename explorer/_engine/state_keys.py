"""The identity of each state a search reaches, for strategies that cache visited states.

A key is equal for two points of two executions only if everything explorer can
still observe from there on is equal: every step either execution can take next,
every finding those steps can show, and every final outcome. It has two parts.

**The program state**, as :mod:`.state_space` defines it: each variable's value (with
its type, so ``1`` and ``True`` stay apart), each lock's holder and depth, and per
thread its history, the values sent into its generator so far (a deterministic
generator's next step, and everything after, is a function of exactly that), or once
it has finished, its return value. Histories are interned: ``(parent id, value,
type)`` maps to a small int, so a key is cheap to build and compare, and two ids are
equal exactly when the histories are (a dict compares by equality; nothing is
hashed lossily). Generator locals cannot stand in for histories (see
:mod:`.state_space`).

**A summary of the path-dependent detectors**, holding exactly what their future
detections depend on; the detectors' state is otherwise a function of the path, not
of the state, and caching on the program state alone would lose findings.

* Lost updates (:mod:`..detectors.lost_update`). A write by ``T`` to ``v`` is a lost
  update of the pair ``(T, W)``, where ``W`` wrote ``v`` last among the threads other
  than ``T`` since ``T``'s latest read of ``v``. So the summary keeps, for each running
  thread ``T`` and variable ``v`` it has read, that ``W`` or None. It evolves from
  itself alone: ``T`` reads ``v``: None; ``U`` writes ``v``: ``U`` for every other
  thread that has read ``v``. Finished threads write nothing more and are left out.
* Races (:mod:`..detectors.races`). A race is keyed by its two accesses, each named by
  its thread, its index among that thread's steps and whether it writes. An access
  ``a`` of ``U`` races with a later conflicting access of ``T != U`` exactly when
  ``T``'s vector clock does not cover ``a``'s epoch. So the summary keeps, per epoch
  ``(U, e)`` (``U``'s steps between two of its releases) that accessed a variable, the
  set of threads and locks whose clocks cover it: its *knowers*. This set evolves
  from itself alone, as the clocks do: a new access is known by ``U`` only (no clock
  has seen ``U``'s current epoch); ``T`` acquiring ``L`` joins ``L``'s clock into
  ``T``'s, so ``T`` now knows what ``L`` knows; ``T`` releasing ``L`` replaces ``L``'s
  clock with a copy of ``T``'s, so ``L`` knows exactly what ``T`` knows. Which of
  ``U``'s accesses lie in epoch ``e`` follows from ``U``'s history, which the key keeps
  for a finished thread too while it has such an epoch. Knowledge only grows, so an
  epoch every running thread but ``U`` knows can never race again and is dropped,
  and finished threads are dropped from the knowers.

Everything else explorer reports is a function of the program state or of one step
from it: final states and outcomes (so serializability, invariants and checks),
deadlocks, errors and warnings the engine raises, a step count reaching
``max_steps``, and lock-order edges (the thread, the lock it acquires, and the locks
it holds, which follow from its own history). So equal keys give equal futures.
Values are compared by type and equality (``-0.0`` and ``0.0`` are one state, as they
are one outcome). A value that cannot be hashed or compared makes its state unique:
it is never cached.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..objects.base import HIDDEN, edges
from ..steps import Op
from .execution import Execution
from .program import Program

FINISHED = "finished"
_SECOND_HALVES = frozenset({"wake", "pass", "drain"})
UNSTARTED = "unstarted"
#: The first knowers bit of a channel: threads are numbered below it.
CHANNELS = 1024


class StateKeys:
    """Makes, for each execution, a function returning the key of the state it is in.

    One per search: history ids are shared by all of its executions.
    """

    __slots__ = ("channel_bits", "histories", "initial", "k", "var_index")

    def __init__(self, program: Program) -> None:
        self.k = len(program.thread_names)
        self.var_index = {var: n for n, var in enumerate(program.var_names)}
        # Knowers are bitmasks: bit i for thread i, bit CHANNELS + n for the n-th channel
        # (a lock, or whatever an object publishes on) in the order first seen.
        self.channel_bits: dict = {}
        self.initial = [(value, value.__class__) for value in program.initial.values()]
        self.histories: dict = {}  # (parent id, value sent, its type) -> id; 0 is the empty history

    def follow(self, run: Execution) -> Callable[[], Hashable]:
        """The key of the state ``run`` is in, whenever it is called (between steps)."""
        return _Tracker(self, run).key


class _Tracker:
    """One execution's key, brought up to date from its new events when asked for."""

    __slots__ = ("epoch", "history", "keys", "knowers", "run", "seen", "stale", "tokens")

    def __init__(self, keys: StateKeys, run: Execution) -> None:
        self.keys = keys
        self.run = run
        self.seen = 0  # events folded in so far
        self.history = [0] * keys.k
        self.tokens = list(keys.initial)  # (value, type) per variable
        self.stale: dict = {}  # (thread, var) -> the last other writer since its last read, or None
        self.knowers: dict = {}  # (thread, epoch) -> bitmask of the threads and locks that know it
        self.epoch = [1] * keys.k

    def key(self) -> Hashable:
        run = self.run
        events = run.events
        if self.seen < len(events):
            self._fold(events)
        tokens, initial = self.tokens, self.keys.initial
        if len(tokens) < len(initial):  # variables other runs named since: absent here so far
            tokens.extend(initial[len(tokens):])
        pending = run.pending
        k = len(pending)
        history = self.history
        if len(history) < k:
            history.extend([0] * (k - len(history)))
            self.epoch.extend([1] * (k - len(self.epoch)))
        live = 0
        for i in range(k):
            if pending[i] is not None:
                live |= 1 << i
        knowers = self.knowers
        relevant = live | ~((1 << CHANNELS) - 1)  # running threads, and every channel
        races = []
        owners = 0  # threads owning an epoch that can still race
        for epoch, mask in list(knowers.items()):
            others = live & ~(1 << epoch[0])
            if mask & others == others:
                del knowers[epoch]  # every thread that can still access knows it
            else:
                races.append((epoch, mask & relevant))
                owners |= 1 << epoch[0]
        returns, started = run.returns, run.live
        threads = []
        for i in range(k):
            step = pending[i]
            if step is not None:
                # a two-phase step's second half (objects/base.py Continue) is not in the history
                threads.append(history[i] if step.__class__ is not Op or step[0] not in _SECOND_HALVES
                               else (history[i], step))
            elif not started[i]:
                threads.append(UNSTARTED)
            else:
                value = returns[i]
                threads.append((FINISHED, value, value.__class__, history[i] if owners >> i & 1 else None))
        stale = frozenset(item for item in self.stale.items() if live >> item[0][0] & 1)
        return (tuple(self.tokens), run.object_keys(), tuple(threads), stale, frozenset(races))

    def _fold(self, events: list[tuple]) -> None:
        keys = self.keys
        histories, history, tokens, stale, knowers, epoch = (
            keys.histories, self.history, self.tokens, self.stale, self.knowers, self.epoch)
        syncs = self.run.syncs
        k = len(self.run.pending)
        if len(history) < k:
            history.extend([0] * (k - len(history)))
            epoch.extend([1] * (k - len(epoch)))
        for position in range(self.seen, len(events)):
            thread, step, value, _enabled = events[position]
            entry = (history[thread], value, value.__class__)
            try:
                node = histories.get(entry)
                if node is None:
                    node = histories[entry] = len(histories) + 1
            except Exception:  # a value read that cannot be hashed or compared: a history like no other
                node = object()
            history[thread] = node
            kind = step[0]
            if kind == "read" or kind == "write" or kind == "update":
                var = step[1]
                if kind == "read":
                    stale[thread, var] = None
                else:
                    written = step[2] if kind == "write" else value[1]
                    index = keys.var_index.get(var)
                    if index is None:  # a variable plain code named in this run
                        index = keys.var_index[var] = len(keys.initial)
                        keys.initial.append((HIDDEN, HIDDEN.__class__))
                    if index >= len(tokens):
                        tokens.extend(keys.initial[len(tokens):])
                    tokens[index] = (written, written.__class__)
                    for other in range(k):
                        if other != thread and (other, var) in stale:
                            stale[other, var] = thread
                    if kind == "update":
                        stale[thread, var] = None
                here = (thread, epoch[thread])
                if here not in knowers:
                    knowers[here] = 1 << thread
                continue
            me = 1 << thread
            for publishes, channel in edges(syncs, position, step):
                if channel.__class__ is tuple and channel[0] == "start":
                    child = 1 << channel[1]  # the new thread knows what its parent knows
                    for known, mask in knowers.items():
                        if mask & me:
                            knowers[known] = mask | child
                    epoch[thread] += 1
                    continue
                if channel.__class__ is tuple and channel[0] == "thread":
                    bit = 1 << channel[1]  # a join knows what the joined thread knew
                else:
                    bit = keys.channel_bits.get(channel)
                    if bit is None:
                        bit = keys.channel_bits[channel] = 1 << (CHANNELS + len(keys.channel_bits))
                if publishes:
                    for known, mask in knowers.items():
                        if mask & me:
                            knowers[known] = mask | bit
                    epoch[thread] += 1
                else:
                    for known, mask in knowers.items():
                        if mask & bit:
                            knowers[known] = mask | me
        self.seen = len(events)
