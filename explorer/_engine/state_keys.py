"""The identity of each state a search reaches, for strategies that cache visited states.

A key is equal for two points of two executions only if everything explorer can
still observe from there on is equal: every step either execution can take next,
every finding those steps can show, and every final outcome. It has two parts.

**The program state**: each variable's value (with
its type, so ``1`` and ``True`` stay apart), each object's part (a lock's holder and
depth), and per running thread what its generator holds at its ``yield``, read by
value from its frames (:mod:`.frames`), with its step count and pending step; where
that cannot be shown sound, its history: the values sent into its generator so far
(a deterministic generator's next step, and everything after, is a function of
exactly that, while no other thread changes what it holds: see below). Histories are
interned: ``(parent id, value held)`` maps to a small int, so two ids are equal
exactly when the histories are. A finished thread is its return value.

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
  set of threads and locks whose clocks cover it (its *knowers*), and its accesses,
  each as ``(step number, variable, kind)`` (an interned list). This set evolves
  from itself alone, as the clocks do: a new access is known by ``U`` only (no clock
  has seen ``U``'s current epoch); ``T`` acquiring ``L`` joins ``L``'s clock into
  ``T``'s, so ``T`` now knows what ``L`` knows; ``T`` releasing ``L`` replaces ``L``'s
  clock with a copy of ``T``'s, so ``L`` knows exactly what ``T`` knows. Knowledge only grows, so an
  epoch every running thread but ``U`` knows can never race again and is dropped,
  and finished threads are dropped from the knowers.

Everything else explorer reports is a function of the program state or of one step
from it: final states and outcomes (so serializability, invariants and checks),
deadlocks, errors and warnings the engine raises, a step count reaching
``max_steps``, and lock-order edges (the thread, the lock it acquires, and the locks
it holds, which follow from its own history). So equal keys give equal futures.
Values are held as :func:`.frames.value_token` holds them (with their types, ``0.0``
apart from ``-0.0``); a value it cannot show by value, or that cannot be hashed, makes
its state unique: it is never cached. Once the frames of two threads of a run could
not be read by value, each thread keyed by its history is keyed by the whole run's
history instead (:meth:`_Tracker._whole`): their frames may hold one object they both
change. A thread whose code may rebind a global or set an attribute (:mod:`.code_globals`)
counts as such a frame: a history key holds nothing of a module's namespace, which the
frame keys of the others do. (A thread whose frame reads by value, but whose pending step holds a function,
as an ``update``'s, holds nothing another thread may change: its own history serves;
but a thread sent a value no token shows counts as unread from then on: it may have
changed that object before its next ``yield``, even if its frame lets it go.)

With symmetry (:func:`symmetric_groups`), threads built alike are renumbered in the
order of their states and the whole key is rewritten under that renumbering
(:meth:`_Tracker._canonical`); any renumbering within a class maps a state to an
equivalent one, so the key stays sound however ties are broken.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..objects.base import HIDDEN, edges
from ..objects.thread import ThreadModel
from ..objects.variable import VariableModel
from ..steps import Op
from .execution import Execution
from .frames import CHANGES, MOVING, OUTSIDE, Opaque, frame_key, token, unchanged, value_token
from .program import Program

FINISHED = "finished"
_SECOND_HALVES = frozenset({"expire", "wake", "pass", "drain"})
UNSTARTED = "unstarted"
#: The first knowers bit of a channel: threads are numbered below it.
CHANNELS = 1024


class StateKeys:
    """Makes, for each execution, a function returning the key of the state it is in.

    One per search: history ids are shared by all of its executions.
    """

    __slots__ = ("access_lists", "channel_bits", "everything", "frames", "groups", "histories", "initial", "k",
                 "lost", "opaque_at", "var_index")

    def __init__(self, program: Program, *, frames: bool = True, symmetry: bool = False) -> None:
        self.frames = frames  # read running threads' states from their frames where that is sound
        # Classes of interchangeable threads (two or more each), when symmetry is asked for and
        # holds: see symmetric_groups.
        self.groups = symmetric_groups(program) if symmetry else ()
        self.access_lists: dict = {}  # (parent id, ordinal, variable, kind) -> id; 0 is the empty list
        # the lost updates the search has noted, both ways round: (variable, reader, writer)
        self.lost: set = set()
        self.k = len(program.thread_names)
        self.var_index = {var: n for n, var in enumerate(program.var_names)}
        # Knowers are bitmasks: bit i for thread i, bit CHANNELS + n for the n-th channel
        # (a lock, or whatever an object publishes on) in the order first seen.
        self.channel_bits: dict = {}
        self.initial = [_initial(value) for value in program.initial.values()]
        self.histories: dict = {}  # (parent id, value sent as held) -> id; 0 is the empty history
        self.everything: dict = {}  # (parent id, thread, value sent as held) -> id: the whole run's history
        # the whole run's history id -> the threads whose frames could not be read by value at
        # some point of that run so far (a bitmask): a later run that replays the same prefix
        # asks for no key there, and reads no frame, but its threads held what they held then
        self.opaque_at: dict = {}

    def note_lost(self, keys) -> None:
        """The search noted these lost-update keys, ``("lost-update", variable, a, b)``, and
        so each pair of the twins of ``a`` and ``b`` loses the same update in some run (the
        result's assembly adds those findings: ``search._close_under_symmetry``)."""
        for _kind, var, a, b in keys:
            for x, y in twin_pairs(self.groups, a, b):
                self.lost.add((var, x, y))
                self.lost.add((var, y, x))

    def follow(self, run: Execution) -> Callable[[], Hashable]:
        """The key of the state ``run`` is in, whenever it is called (between steps)."""
        return _Tracker(self, run).key


class _Tracker:
    """One execution's key, brought up to date from its new events when asked for."""

    __slots__ = ("accesses", "cached", "epoch", "everything", "history", "keys", "knowers", "opaque", "ordinal",
                 "perm", "run", "seen", "stale", "tokens")

    def __init__(self, keys: StateKeys, run: Execution) -> None:
        self.keys = keys
        self.run = run
        self.seen = 0  # events folded in so far
        self.history = [0] * keys.k
        self.tokens = list(keys.initial)  # (value, type) per variable
        self.stale: dict = {}  # (thread, var) -> the last other writer since its last read, or None
        self.knowers: dict = {}  # (thread, epoch) -> bitmask of the threads and locks that know it
        self.epoch = [1] * keys.k
        self.ordinal = [0] * keys.k  # steps taken, per thread
        self.accesses: dict = {}  # (thread, epoch) -> id of its accesses' list (ordinal, variable, kind)
        self.cached: dict = {}  # thread -> (steps taken, step pending, its state): frames without cells
        self.perm: list[int] | None = None  # the renumbering of the last key (symmetry), None: none
        self.everything = (0, 0)  # events folded into the whole run's history (_whole), and its id
        self.opaque = 0  # the threads whose frame could ever not be read by value, a bitmask

    def key(self) -> Hashable:
        """The key; :attr:`perm` then says how it numbers the threads (None: as the run does)."""
        self.perm = None
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
            self.ordinal.extend([0] * (k - len(self.ordinal)))
        live = 0
        for i in range(k):
            if pending[i] is not None:
                live |= 1 << i
        knowers = self.knowers
        relevant = live | ~((1 << CHANNELS) - 1)  # running threads, and every channel
        races = []
        accesses = self.accesses
        for epoch, mask in list(knowers.items()):
            others = live & ~(1 << epoch[0])
            if mask & others == others:
                del knowers[epoch]  # every thread that can still access knows it
                accesses.pop(epoch, None)
            else:
                races.append((epoch, mask & relevant, accesses[epoch]))
        returns, started = run.returns, run.live
        threads = []
        frames = self.keys.frames
        opaque = []  # the places in threads of those whose state is their history
        holding = []  # (thread, the cells and iterators its frame key holds), where it holds some
        for i in range(k):
            step = pending[i]
            if step is not None:
                if frames:
                    state = self._frame_state(i, step)
                    if state is not None:
                        threads.append(state)
                        if self.cached[i][3]:
                            holding.append((i, self.cached[i][3]))
                        continue
                else:
                    self.opaque |= 1 << i  # no frame read: it may hold anything
                opaque.append(len(threads))
                # a two-phase step's second half (objects/base.py Continue) is not in the history
                if step.__class__ is not Op or step[0] not in _SECOND_HALVES:
                    threads.append(history[i])
                else:
                    threads.append((history[i], step))
            elif not started[i]:
                threads.append(UNSTARTED)
            else:
                # held as a value written is (typed inside a tuple too: a thread that returned
                # (True,) is another state than one that returned (1,), and outcomes differ)
                threads.append((FINISHED, _returned(returns[i])))
        if self.opaque or self.keys.opaque_at:
            self._note_opaque(events)
        if opaque and self.opaque & (self.opaque - 1):
            # Two threads or more whose frames hold what cannot be read by value (a list, an
            # instance) may hold the same one, and change it between their steps (a list the
            # parent gave its children; plain code's objects): what each holds then depends on
            # the others' steps too, not on its own history alone. So each thread keyed by its
            # history is keyed by the whole run's history (and a thread whose frame holds none
            # now may have changed one before: hence every thread whose frame was ever unread).
            whole = self._whole(events)
            for place in opaque:
                threads[place] = ("run", whole, threads[place])
        stale = [item for item in self.stale.items() if live >> item[0][0] & 1]
        lost = self.keys.lost
        if lost and stale:
            # a stale read whose lost update was noted already shows nothing new: keyed as a
            # read not yet overwritten (more in model_graph.ModelGraph._key)
            stale = [(item[0], None) if item[1] is not None and (item[0][1], item[0][0], item[1]) in lost else item
                     for item in stale]
        shared = _shared(holding) if len(holding) > 1 else ()
        if shared:  # which threads hold one cell or iterator: threads numbered as the run does
            threads.append(("shared", shared))
        elif self.keys.groups and k == self.keys.k:  # (a thread started in the run: no symmetry)
            return self._canonical(threads, stale, races)
        return (tuple(self.tokens), _object_keys(run), tuple(threads), frozenset(stale), frozenset(races))

    def _canonical(self, threads: list, stale: list, races: list) -> Hashable:
        """The key with interchangeable threads renumbered in the order of their states, so
        that two states equal up to swapping such threads have one key. Any renumbering
        within a class gives a key of a state equivalent to this one, so the key is sound
        whichever order ties take; ties broken otherwise only cost merging."""
        order, perm = renumbering(self.keys.groups, threads, _rank)
        if perm is None:
            return (tuple(self.tokens), _object_keys(self.run), tuple(threads), frozenset(stale),
                    frozenset(races))
        objects = []
        for name, model in self.run.objects.items():
            if model.__class__ is VariableModel or model.__class__ is ThreadModel:
                continue
            if not model.relabels:  # an object whose key cannot renumber threads: no symmetry here
                return (tuple(self.tokens), _object_keys(self.run), tuple(threads), frozenset(stale),
                        frozenset(races))
            objects.append((name, held(model.key_relabelled(perm))))
        stale, races = renumbered_summaries(perm, stale, races)
        self.perm = perm
        return (tuple(self.tokens), tuple(objects), tuple(threads[i] for i in order), frozenset(stale),
                frozenset(races))

    def _whole(self, events: list[tuple]) -> object:
        """The id of the run's history so far: every step's thread and the value it was
        sent, in order, interned as histories are (worked out only for a run that needs it).
        On the way, the threads found opaque at each point passed (:meth:`_note_opaque`)
        join :attr:`opaque`."""
        everything, (done, node) = self.keys.everything, self.everything
        opaque_at = self.keys.opaque_at
        for position in range(done, len(events)):
            if opaque_at:
                self.opaque |= opaque_at.get(node, 0)
            thread, _step, value, _enabled = events[position]
            entry = (node, thread, held(value))
            try:
                known = everything.get(entry)
                if known is None:
                    known = everything[entry] = len(everything) + 1
            except Exception:  # a value that cannot be hashed or compared: a history like no other
                known = object()
                # the points past it are no other run's: what their threads held is unknown
                self.opaque |= (1 << len(self.run.pending)) - 1
            node = known
        self.everything = (len(events), node)
        return node

    def _note_opaque(self, events: list[tuple]) -> None:
        """Take on the threads an earlier run found opaque along this run's prefix (where
        this run asked for no key), and note this point's for the runs that replay it.
        Without it, a thread that held a shared list only in the prefix (a child handed
        its parent's list, done before the prefix ends) would leave the other's history
        key blind to what it did to that list."""
        node = self._whole(events)
        opaque_at = self.keys.opaque_at
        self.opaque |= opaque_at.get(node, 0)
        if self.opaque and node.__class__ is int:
            opaque_at[node] = self.opaque

    def _frame_state(self, i: int, step: object) -> Hashable | None:
        """Thread ``i``'s state read from its generator's frames (:mod:`.frames`), with its
        step count (a budget of steps counts them) and the step it waits to take; None
        where that cannot be shown sound, and its history stands in."""
        ordinal = self.ordinal[i]
        cached = self.cached.get(i)
        if cached is not None and cached[0] == ordinal and cached[1] is step and (
                not cached[3] or unchanged(cached[3])):  # another thread may rebind a shared cell
            return cached[2]
        read = frame_key(self.run.gens[i])
        if read is None:
            state = None
            cells = ()
            # its frame holds an object not read by value, which another thread may hold too
            self.opaque |= 1 << i
        else:
            cells = read[1]
            if (OUTSIDE, CHANGES) in cells:
                # its code may rebind a global, set an attribute or a cell that another thread
                # reads: a thread keyed by its history holds none of that, so it is keyed by
                # the whole run's instead, as beside a second unread frame (key)
                self.opaque |= 1 << i
            try:
                state = (read[0], ordinal, token(step))
            except Opaque:
                # a step whose arguments are not values (an update's or a spawn's function): its
                # history stands in for them, beside the frame, whose cells other threads may
                # change (a closure's variable its children add to)
                history = self.history[i]
                if step.__class__ is Op and step[0] in _SECOND_HALVES:  # not in the history: below
                    history = (history, step)
                state = (read[0], ordinal, ("history", history))
        self.cached[i] = (ordinal, step, state, cells)
        return state

    def _fold(self, events: list[tuple]) -> None:
        keys = self.keys
        histories, history, tokens, stale, knowers, epoch = (
            keys.histories, self.history, self.tokens, self.stale, self.knowers, self.epoch)
        syncs = self.run.syncs
        k = len(self.run.pending)
        if len(history) < k:
            history.extend([0] * (k - len(history)))
            epoch.extend([1] * (k - len(epoch)))
        ordinals, accesses, access_lists = self.ordinal, self.accesses, keys.access_lists
        if len(ordinals) < k:
            ordinals.extend([0] * (k - len(ordinals)))
        for position in range(self.seen, len(events)):
            thread, step, value, _enabled = events[position]
            ordinal = ordinals[thread]
            ordinals[thread] = ordinal + 1
            sent = held(value)
            if sent.__class__ is _Unlike:  # an object it may change, and another may hold
                self.opaque |= 1 << thread
            entry = (history[thread], sent)
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
                    tokens[index] = held(written)
                    for other in range(k):
                        if other != thread and (other, var) in stale:
                            stale[other, var] = thread
                    if kind == "update":
                        stale[thread, var] = None
                here = (thread, epoch[thread])
                if here not in knowers:
                    knowers[here] = 1 << thread
                entry = (accesses.get(here, 0), ordinal, var, kind)
                listed = access_lists.get(entry)
                if listed is None:
                    listed = access_lists[entry] = len(access_lists) + 1
                accesses[here] = listed
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


def held(value: object) -> object:
    """A value written or sent, as a key holds it: its token (:func:`.frames.value_token`:
    typed, ``0.0`` apart from ``-0.0``, a dataclass by its fields), or, for a value no
    token shows, a marker that cannot be hashed, so that a state holding it is never
    cached, as one holding a list: ``==`` may call two such values equal that a thread
    tells apart (a field left out of the comparison), and each run makes its own."""
    try:
        return value_token(value)
    except Opaque:
        return _Unlike()


def _returned(value: object) -> object:
    """A finished thread's return value as a key holds it: as :func:`held` holds a value,
    but explorer's own markers (a pool worker's ``HIDDEN``), the same object in every run,
    as themselves."""
    try:
        return value_token(value)
    except Opaque:
        return _Same(value) if value.__class__.__module__.startswith("explorer.") else _Unlike()


def _object_keys(run) -> tuple:
    """Each declared object's part of the key, its values held as :func:`held` holds them: a
    queue holding ``(True, 1)`` is another state than one holding ``(1, True)``."""
    return tuple((name, held(key)) for name, key in run.object_keys())


class _Unlike:
    """A value like no other: equal to itself alone, and unhashable."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


def _initial(value: object) -> object:
    """A variable's initial value as a key holds it: as :func:`held`, but one without a
    token is that object, every run's, compared with itself alone."""
    try:
        return value_token(value)
    except Opaque:
        return _Same(value)


class _Same:
    """An object compared by identity (it lives as long as the program: its hash stays its own)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return other.__class__ is _Same and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def renumbering(groups: tuple, threads: list, rank) -> tuple[list[int], list[int] | None]:
    """``(order, perm)``: each class's threads sorted by ``rank`` of their states (the
    states themselves when None; ties by number); slot ``s`` of the key holds thread ``order[s]``, and thread ``i`` is called
    ``perm[i]`` there (None when no thread moves)."""
    order = list(range(len(threads)))
    key = threads.__getitem__ if rank is None else (lambda i: rank(threads[i]))
    moved = False
    for group in groups:
        ranked = sorted(group, key=key)  # stable: ties keep their numbers' order
        if ranked != list(group):
            moved = True
            for slot, i in zip(group, ranked):
                order[slot] = i
    if not moved:
        return order, None
    perm = [0] * len(order)
    for slot, i in enumerate(order):
        perm[i] = slot
    return order, perm


def renumbered_summaries(perm: list[int], stale: list, races: list) -> tuple[frozenset, list]:
    """The detectors' summaries with thread ``i`` called ``perm[i]``: stale reads by reader
    and writer, and each racing epoch's owner and the threads among its knowers."""
    return (frozenset(renumbered_stale(perm, item) for item in stale),
            [renumbered_epoch(perm, item) for item in races])


def renumbered_stale(perm: list[int], item: tuple) -> tuple:
    """A stale-read entry ``((reader, variable), writer)`` with thread ``i`` called ``perm[i]``."""
    (reader, var), writer = item
    return ((perm[reader], var), None if writer is None else perm[writer])


def renumbered_epoch(perm: list[int], item: tuple, channels: int = CHANNELS) -> tuple:
    """A racing epoch's entry ``((owner, number), knowers, accesses)`` with thread ``i``
    called ``perm[i]`` (the knowers' channel bits, from bit ``channels`` on, stay)."""
    (owner, epoch), mask, listed = item
    low = (1 << channels) - 1
    threads_mask = 0
    bits = mask & low
    while bits:
        bit = bits & -bits
        threads_mask |= 1 << perm[bit.bit_length() - 1]
        bits ^= bit
    return ((perm[owner], epoch), (mask & ~low) | threads_mask, listed)


def renumbered_mask(mask: int, perm: list[int]) -> int:
    """A bitmask of threads with thread ``i`` called ``perm[i]``."""
    moved = 0
    while mask:
        bit = mask & -mask
        moved |= 1 << perm[bit.bit_length() - 1]
        mask ^= bit
    return moved


def inverse(perm: list[int]) -> list[int]:
    """The renumbering that undoes ``perm``."""
    undone = [0] * len(perm)
    for i, j in enumerate(perm):
        undone[j] = i
    return undone


def _shared(holding: list) -> tuple:
    """Which cells and iterators two threads' frame keys both hold: ``(thread, place,
    (first thread, its place))`` for each one met again in another thread, places in the
    order each key met them. Two children given one closure (or one iterator) are another
    state than two given equal ones: what one does, the other sees."""
    first: dict = {}
    shared = []
    for thread, cells in holding:
        for place, (cell, held) in enumerate(cells):
            if cell is OUTSIDE:  # a module's namespace: every thread's, its values in the keys
                continue
            target = held[0] if cell is MOVING else cell
            met = first.get(id(target))
            if met is None:
                first[id(target)] = (thread, place)
            elif met[0] != thread:
                shared.append((thread, place, met))
    return tuple(shared)


def _rank(state: object) -> tuple:
    """An order on thread states of any shape: by hash, then by text for equal hashes."""
    return (hash(state),)


def symmetric_groups(program: Program) -> tuple[tuple[int, ...], ...]:
    """Classes of two or more threads built from the same function with the same
    arguments (equal as :func:`.frames.token` compares values), which only
    objects that can renumber threads in their keys share: such threads can trade places
    in any state. Plain programs (their threads are greenlets) have none."""
    if program.plain is not None:
        return ()
    if not all(getattr(declaration, "relabels", False) for declaration in program.declarations.values()):
        return ()
    classes: dict = {}
    for i, factory in enumerate(program.factories):
        try:
            made = token(factory)
            hash(made)
        except (Opaque, TypeError, RecursionError):
            continue
        classes.setdefault(made, []).append(i)
    return tuple(tuple(members) for members in classes.values() if len(members) > 1)


def twin_pairs(groups: tuple, a: int, b: int) -> list[tuple[int, int]]:
    """Every pair of threads that a renumbering within ``groups`` makes of the pair
    ``(a, b)``, ``(a, b)`` first: what the pair does, each of those pairs does in some run."""
    def alike(thread: int) -> tuple:
        return next((group for group in groups if thread in group), (thread,))

    pairs = [(a, b)]
    pairs += [(x, y) for x in alike(a) for y in alike(b) if x != y and (x, y) != (a, b)]
    return pairs


def swapping(k: int, a: int, b: int, image_a: int, image_b: int) -> list[int]:
    """A renumbering of ``k`` threads (thread ``i`` becomes ``perm[i]``) that makes ``a``
    ``image_a`` and ``b`` ``image_b`` by two swaps, each within the class of the threads it
    swaps when the images are twins (:func:`twin_pairs`); ``a != b``, ``image_a != image_b``."""
    def swap(x: int, y: int, i: int) -> int:
        return y if i == x else x if i == y else i

    moved_b = swap(a, image_a, b)  # where the first swap puts b (never image_a: a != b)
    return [swap(moved_b, image_b, swap(a, image_a, i)) for i in range(k)]
