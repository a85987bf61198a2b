"""Stateful search without replays: the state graph of threads on variables and locks,
walked with each thread's steps remembered by its state.

A thread's future is fixed by its state (:mod:`.frames`: its frames read by value, or
the values sent into it), so what one step of a thread does from a state, given the
value it is sent, is a function: ``(local state, value sent) -> next local state``.
This module remembers that function as it learns it. To learn one more entry it needs a
generator in that local state: a fresh one from the thread's factory, sent the values
that first led there (a bare ``gen.send`` each, no engine). Every other step of the
search is arithmetic on small tuples: the shared values, each lock's holder and depth,
each thread's local state, and the same detector summaries as the engine's state keys
(:mod:`.state_keys`: stale reads for lost updates; epochs, their knowers and accesses
for races, by their sites, letting an epoch go once every pair of sites it could make
was seen: :mod:`.race_sites`). So the graph is walked depth first with an explicit
stack, as SPIN walks it, and never replays a path; serially with sleep sets stored with the states, as the
replaying search keeps them (:mod:`explorer.strategies.stateful`), steps commuting as
:meth:`ModelGraph._sleep_after` says, and with a release of a lock its thread holds
explored alone where there is one (a persistent set: :meth:`ModelGraph._enabled`).

It decides where to look, not what is found: where a step shows something the search
has not seen (a race's pair of sites, a lost update key, a lock-order edge, an outcome,
a deadlock, an exception, a step budget reached, a misused lock), it hands the path to that step to
the search loop, which runs it through the engine on to its end (no further
preemptions) as an ordinary execution, so findings, traces and outcomes are made by
the same code as for every other strategy.

Only generator threads whose steps are ``read``, ``write``, plain ``acquire`` and
``release`` on declared locks are walked here; anything else (plain code, other
objects, spawned threads, a thread that cannot start) raises :class:`Unsupported`
and the stateful strategy explores by replaying instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from threading import get_ident

from ..objects.lock import RELEASE_UNLOCKED, RELEASE_UNOWNED, LockDeclaration
from ..outcomes import outcome_key
from ..steps import Acquire, Read, Release, Write
from .driver import abandon, exception_location, location
from .fingerprint_set import FingerprintSet
from .fingerprints import Unstable, digest
from .frames import CHANGES, MOVING, OUTSIDE, Opaque, frame_key, token, value_token
from .program import Program
from .race_sites import RaceSites
from .seats import SeatsBroken, composition, moved_epoch, renamed_step, seat_moves
from .shared_visited import NEW
from .state_keys import (inverse, renumbered_epoch, renumbered_mask, renumbered_stale, renumbering,
                         symmetric_groups, twin_pairs)
from .watchdog import DEADLINES, NO_DEADLINE, RUNNING, TimeLimitReached

FINISHED = "finished"
#: How many states the walk keeps in a dict, whose lookups cost a tenth of a microsecond;
#: past it they move to a FingerprintSet: 14 to 27 bytes a state instead of about 100, at a
#: microsecond or so a lookup (Python probes it). Below it the dict takes some 25 MiB at most.
COMPACT_AT = 1 << 18
#: How many steps the walk takes between looks at the clock (a time limit, a unit's time)
#: and at a portfolio's turn: a power of two.
CHECK_EVERY = 1024
_GENERATOR = type((lambda: (yield))())


class Unsupported(Exception):  # noqa: N818 - a signal, not an error
    """This program is not one the graph walk covers: explore by replaying."""


#: How many tuples of local states the walk keeps its renumbering for (``arranged``); it
#: starts again past that, so the cache stays a few MiB however many states there are.
ARRANGED = 1 << 17
_UNMOVED = (None, None, None, None)


class ForeignRelease(SeatsBroken):
    """A thread is about to release a lock it does not hold: its release may race with the
    holder's, so releases cannot go first (:meth:`ModelGraph._enabled`); walk again without."""


class _Special(Exception):  # noqa: N818
    """The step ends the run in a way only the engine words (an exception, a bad step)."""


class ModelGraph:
    """The graph walk of one program; :meth:`next_schedule` gives each path to run."""

    def __init__(self, program: Program, *, symmetry: bool, exact: bool, max_states: int | None,
                 max_steps: int, stable: bool = False, seats: bool = True, releases_first: bool = True,
                 known_sites: dict | None = None, drops: bool = True, strict_sites: bool = False) -> None:
        if program.plain is not None or not all(
                declaration.__class__ is LockDeclaration for declaration in program.declarations.values()):
            raise Unsupported
        self.program = program
        self.stopped_in: str | None = None  # the thread's code the time limit or Ctrl-C stopped (_learn)
        self.k = len(program.factories)
        self.var_index = {var: n for n, var in enumerate(program.var_names)}
        self.initial = tuple(program.initial.values())
        self.locks = {}
        for name in program.lock_names:
            self.locks[name] = len(self.locks)
        for name, declaration in program.declarations.items():
            if name not in self.locks:
                self.locks[name] = len(self.locks)
        self.reentrant = [bool(program.reentrant.get(name)) for name in self.locks]
        # A knowers mask (state_keys) has bit i for thread i and, unlike the replaying
        # searches' (whose threads may grow in number), the locks' bits right above the
        # threads': masks stay small ints, whose operations and hashes are the cheapest.
        self.channel = [1 << (self.k + n) for n in range(len(self.locks))]
        self.channel_bits = ~((1 << self.k) - 1)  # every channel's bit in a knowers mask
        self.epoch_renamed = partial(renumbered_epoch, channels=self.k)
        self.groups = symmetric_groups(program) if symmetry else ()
        family = list(range(self.k))  # threads of one class share their local states
        for group in self.groups:
            for i in group:
                family[i] = group[0]
        self.family = family
        # Seat moves (:mod:`.seats`): threads renamed with the locks their arguments name,
        # checked step by step as the walk learns them; they include the twins' swaps.
        self.moves = seat_moves(program, self.locks, self.reentrant) if symmetry and seats else ()
        self.seated = seats
        self.releases_first = releases_first
        self.alone: dict = {}  # local id -> whether its pending release may be explored alone
        self.images: list[dict] = []  # per move: local id -> the local id its thread's image is in
        if self.moves:
            self.groups = ()
            self.compose = composition(self.moves)
            self.images = [{} for _ in self.moves]
            self.seat_orders = [inverse(list(move.threads)) for move in self.moves]
            self.epoch_moves = [partial(moved_epoch, move.locks, at=self.k) for move in self.moves]
        self.exact = exact
        self.max_states = max_states
        self.max_steps = max_steps
        # key -> the sleep set the state was explored with, in the key's numbering of threads:
        # a key is a 64-bit fingerprint unless exact; past COMPACT_AT of them they move to a
        # compact table
        self.visited: dict | FingerprintSet = {}
        self.all = (1 << self.k) - 1
        self.asleep = 0  # the sleep set of the state _step returned last (its frame's)
        self.perm = None  # how _key last renumbered the threads (None: it did not)
        # symmetry: a tuple of local states -> how its threads are renumbered (_arrange), and
        # a renumbering -> that, with its summary entries' numbers: both repeat across states
        self.arranged: dict = {}
        self.moved: dict = {}  # (seat move, lock holders, depths) -> those the move makes
        self.renamings: dict = {}
        self.parts: dict = {}  # values, lock holders, lock depths -> their number
        # The detectors' summaries are sets of entries (a stale read; an epoch's knowers and
        # accesses): each entry is numbered once (``elements``), and a summary is the sorted
        # tuple of its entries' numbers, numbered in turn (``summaries``): entries repeat
        # across millions of states, so a summary costs a few words, not a set of tuples.
        self.elements: dict = {}
        self.summaries: dict = {}
        self.element_digests: list = []  # element number -> its digest (-1: it has none)
        self.summary_digests: list = []  # summary number -> its digest (-1: it has none)
        self.no_summary = self.summaries[()] = 0  # the empty summary's number
        self.summary_digests.append(digest(()))
        # A parallel search's keys are fingerprints every process computes alike
        # (:mod:`.fingerprints`): parts, local states and access lists by their digests, not
        # by this process's numbers; a key with a part that has none stays this process's.
        self.stable = stable and not exact  # exact keys stay whole, and this process's
        # Sleep sets; a parallel search's table holds one in a word with each state, so there
        # only for threads numbered below 64
        self.sleep = not stable or self.k < 64
        self.digests: list = []  # local id -> its digest (below 0: it has none)
        self.access_digests: list = [0]  # access-list id -> its digest (-1: it has none)
        self.shared = None  # the workers' table of visited states (:mod:`.shared_visited`)
        self.facts = b""  # the table's facts as this walk last read them (catch_up)
        self.foreign = 0  # states in ``visited`` that another process took on
        self.part_digests: list = []  # part number -> its digest (-1: it has none)
        self.made = None  # the last key, for its fingerprint
        self.unshared: list = []  # (fingerprint, sleep set) of states visited before a table was shared
        self.bytes_measured = (0, 0.0)  # states when the bytes per state were last measured, and those
        self.handed: list[int] | None = None  # a path a unit hands out before walking on
        self.pause: float | None = None  # when a unit's walk stops, between two states, to split
        self.hungry = None  # a flag that stops it from ``early`` on: a worker is idle (hunger.py)
        self.early = 0.0
        self.paused = False
        # a portfolio's turn (:mod:`.portfolio`): the walk stops, between two states, once
        # this says the turn is over
        self.turn_over: Callable[[], bool] | None = None
        self.check_every = CHECK_EVERY - 1  # a mask: those checks come every CHECK_EVERY steps
        self.locals: dict = {}   # (family, key) -> local id
        self.unread = 0  # the threads a frame of which could not be read by value, a bitmask
        self.cell_holders: dict = {}  # id of a cell or iterator a frame held -> (it, what it held first, threads)
        self.info: list = []     # local id -> (family, pending step or None, ordinal, values sent, return)
        self.memo: dict = {}     # (local id, value sent as _sent_token holds it) -> next local id
        self.accesses: list = [None]  # access-list id -> (parent id, site or step number, variable, writes)
        self.access_ids: dict = {}
        self.seen: set = set()   # what a path was handed out for already
        # each race (by its pair of sites) and the path handed out that showed it: the search
        # keeps races by thread and step number, so a later run may take that key with other
        # lines, and the assembly then runs this path again to show the pair (search.assemble)
        self.race_paths: dict = {}
        self.fresh_races: list = []  # found since the last path handed out
        # races by their accesses' sites, as the user sees them, and epochs dropped once
        # every pair of sites they could make is seen (:mod:`.race_sites`)
        self.race_sites = RaceSites(program.thread_names, [], self.seen, known_sites, drops, strict_sites)
        self.sites: list = []    # local id -> the site of its pending access (None: none, or no line)
        self.codes: dict = {}    # a thread's generator's code -> its number
        self.raced: set = set()  # (access list, its thread, thread, site or ordinal, variable, writes) checked
        # lost updates seen, both ways round: (variable, reader, writer); and the (reader,
        # variable) pairs seen with every other thread as the writer (see _key)
        self.lost: set = set()
        self.saturated: set = set()
        self.full = False
        self.pruned = 0
        self.runs = 0            # paths handed out to be run
        self.limit = math.inf    # stop (``spent``) once ``pruned + runs`` reaches it: max_executions
        self.spent = False
        self.resent = 0          # values sent again to bring a generator to a state
        self.stack: list = []
        self.path: list[int] = []
        self.first = False
        self.owed = False  # the path holds a step that showed something new, not yet run
        self.passed = DEADLINES.get(get_ident(), NO_DEADLINE).passed
        # thread -> the generator _start learned its first step from, kept for the first
        # transition learned from there: its later steps are seen too, not only a fresh
        # generator's (a thread that raises from its second generator on is nondeterminism)
        self.spare: dict = {}
        self.learning = _Learning()
        self._start()

    # ---- local states ------------------------------------------------------------------

    def _local(self, thread: int, gen, step, ordinal: int, sent: tuple, returned=None) -> int:
        family = self.family[thread]
        if step is None:
            try:  # typed inside a tuple too: (True,) and (1,) are other outcomes
                key = (FINISHED, value_token(returned))
            except Opaque:
                raise Unsupported from None
        else:
            self._check(step)
            read = frame_key(gen)
            self._on_its_own(thread, read)
            try:
                key = (read[0], ordinal, token(step)) if read is not None else None
            except Opaque:
                key = None
            if key is None:  # the values sent stand in for the frames: always sound
                try:
                    key = ("sent", tuple(held for _value, held in sent), token(step))
                except Opaque:
                    raise Unsupported from None  # a step holding a value compared by identity
            try:
                hash(key)
            except TypeError:
                raise Unsupported from None
        local = self.locals.get((family, key))
        if local is None:
            site = None
            cls = step.__class__
            if cls is Read or cls is Write:  # learned first: SitesGrew leaves the tables whole
                line = location(gen)
                site = None if line is None else (step[0], line)
                self.race_sites.learn(thread, step[1], site)
            local = self.locals[family, key] = len(self.info)
            self.info.append((family, step, ordinal, sent, returned))
            self.sites.append(site)
            if self.stable:
                try:
                    self.digests.append(digest((family, key)))
                except Unstable:  # ordered below every digest, and apart from the others
                    self.digests.append(-1 - local)
        return local

    def _on_its_own(self, thread: int, read: tuple | None) -> None:
        """Raise :class:`Unsupported` where a thread's steps may depend on another's: the walk
        learns each thread's steps as a function of its own state, from fresh generators run
        outside any execution. Two threads whose frames cannot be read by value may hold one
        list (a closure's) and change it; a cell or iterator that two threads' frames hold and
        one of them changes (``nonlocal``) changes the other's future too. The replaying search
        keys those states by the whole run's history (:mod:`.state_keys`)."""
        if read is None:
            self.unread |= 1 << thread
            if self.unread & (self.unread - 1):
                raise Unsupported
            return
        holders = self.cell_holders
        for held, contents in read[1]:
            if held is OUTSIDE:
                if contents is CHANGES:  # it may change what another thread reads outside its frames
                    raise Unsupported
                namespace, name, value = contents
                # a name or class rebound since the walk first read it: learned on their own,
                # the threads' steps would not see it when they should
                first = holders.setdefault((id(namespace), name), (namespace, value))[1]
                if name is None:  # a class's attributes
                    if len(first) != len(value) or any(a is not b for a, b in zip(first, value)):
                        raise Unsupported
                elif first is not value and not (first.__class__ is value.__class__ and first.__class__ in (int, str)
                                                 and first == value):
                    raise Unsupported
                continue
            if held is MOVING:
                held, contents = contents[0], contents[1]
            known = holders.get(id(held))
            if known is None:
                holders[id(held)] = (held, contents, 1 << thread)  # kept: its id is not reused
                continue
            threads = known[2] | 1 << thread
            if threads != known[2]:
                holders[id(held)] = known = (held, known[1], threads)
            first = known[1]
            if threads & (threads - 1) and first is not contents and not (
                    first.__class__ is contents.__class__ and first.__class__ in (int, str) and first == contents):
                raise Unsupported

    def _check(self, step) -> None:
        cls = step.__class__
        if cls is Read or cls is Write:
            if step[1] not in self.var_index:
                raise _Special
        elif cls is Acquire or cls is Release:
            if len(step) != 2:
                raise Unsupported  # a timed or non-blocking acquire
            if step[1] not in self.locks:
                raise _Special
        else:
            raise Unsupported

    def _next(self, thread: int, local: int, value) -> int:
        """The local state after thread ``thread`` in ``local`` is sent ``value``."""
        memo_key = (local, _sent_token(value))
        try:
            known = self.memo.get(memo_key)
        except TypeError:
            raise Unsupported from None
        if known is not None:
            return known
        _family, _step, ordinal, sent, _returned = self.info[local]
        try:
            nxt = self._run_as(thread, sent, ordinal, value, memo_key[1])
        except _Special:
            if self.moves:
                self._mirror(thread, local, value, None)
            raise
        if self.moves:
            self._mirror(thread, local, value, nxt)
        self.memo[memo_key] = nxt
        return nxt

    def _fresh(self, thread: int, sent: tuple):
        """A fresh generator of thread ``thread`` sent ``sent``: at the step after them (a
        generator cannot be copied, so it is brought there again)."""
        if not sent and thread in self.spare:
            return self.spare.pop(thread)
        gen = self.program.factories[thread]()
        gen.send(None)
        for earlier, _cls in sent:
            gen.send(earlier)
        self.resent += len(sent)
        return gen

    def _watched(self) -> tuple[int, object]:
        """Let the watchdog (watchdog.py) watch the thread's own code the walk runs now,
        outside any execution, as it watches an execution's step: code that never yields
        is interrupted (``StepTimeout``: the walk hands that path to the engine, whose run
        makes it a ``step-timeout`` finding; or the time limit). Each piece of code run is
        one more event, so the walk's progress is seen. Returns what :meth:`_unwatched`
        puts back."""
        me = get_ident()
        outer = RUNNING.get(me)
        self.learning.events.count += 1
        RUNNING[me] = self.learning
        return me, outer

    @staticmethod
    def _unwatched(me: int, outer: object) -> None:
        if outer is None:
            RUNNING.pop(me, None)
        else:
            RUNNING[me] = outer

    def _run_as(self, thread: int, sent: tuple, ordinal: int, value, held) -> int:
        """The local state of thread ``thread`` sent ``sent`` and then ``value``: a fresh
        generator brought there (raises :class:`_Special` where the step ends the run)."""
        me, outer = self._watched()
        try:
            return self._learn(thread, sent, ordinal, value, held)
        finally:
            self._unwatched(me, outer)

    def _learn(self, thread: int, sent: tuple, ordinal: int, value, held) -> int:
        gen = None
        try:
            gen = self._fresh(thread, sent)
            step = gen.send(value)
        except StopIteration as stop:
            nxt = self._local(thread, None, None, ordinal + 1, (), stop.value)
        except KeyboardInterrupt as stop:  # the time limit or Ctrl-C, in the thread's own code
            where = exception_location(stop)
            if where is not None:
                self.stopped_in = (f"thread {self.program.thread_names[thread]}'s code after its step {ordinal + 1}, "
                                   f"at {where}")
            raise
        except BaseException:  # an exception is a finding: the engine words it
            _close(gen)
            raise _Special from None
        else:
            try:
                if ordinal + 1 >= self.max_steps:
                    raise _Special
                nxt = self._local(thread, gen, step, ordinal + 1, sent + ((value, held),))
            finally:  # also when the walk gives up (Unsupported): closed here, not by the collector,
                _close(gen)  # whose close of a ``finally`` that yields prints a warning
        return nxt

    def _catches(self, thread: int, local: int, message: str) -> bool:
        """Whether ``thread``, in ``local``, goes on when its step raises
        ``RuntimeError(message)`` there, as threading words it (code may test the words)."""
        gen = None
        me, outer = self._watched()
        try:
            gen = self._fresh(thread, self.info[local][3])
            gen.throw(RuntimeError(message))
        except StopIteration:  # it caught the exception and ended: it went on, to its end
            return True
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - it escaped (or another did): the run ends
            return False
        finally:
            _close(gen)
            self._unwatched(me, outer)
        return True

    # ---- seat moves (:mod:`.seats`) -------------------------------------------------------

    def _mirror(self, thread: int, local: int, value, nxt: int | None) -> None:
        """Check every seat move against the step just learned (``local`` sent ``value``
        gives ``nxt``; None: the step ended the run) by running each image thread from the
        same values sent, and note where each image lands: for every move, where the
        image's images are."""
        _family, _step, ordinal, sent, _returned = self.info[local]
        images = self.images
        landed = []
        held = _sent_token(value)
        for a, move in enumerate(self.moves):
            if not a:  # the identity
                landed.append(nxt)
                continue
            source = images[a][local]
            memo_key = (source, held)
            known = self.memo.get(memo_key)
            if known is None:
                try:
                    known = self._run_as(move.threads[thread], sent, ordinal, value, held)
                except _Special:
                    known = None
            if (known is None) != (nxt is None):
                raise SeatsBroken
            if nxt is not None:
                self.memo[memo_key] = known
            landed.append(known)
        if nxt is None:
            return
        for b, row in enumerate(self.compose):
            for a, image in enumerate(landed):
                self._map(b, image, landed[row[a]])

    def _map(self, a: int, local: int, image: int) -> None:
        """Note that move ``a`` sends a thread in ``local`` to ``image``; check the image
        takes the renamed step (or returns the same value) at the same step number."""
        known = self.images[a].get(local)
        if known is not None:
            if known != image:
                raise SeatsBroken
            return
        self.images[a][local] = image
        _f, step, ordinal, _sent, returned = self.info[local]
        _g, other, other_ordinal, _other_sent, other_returned = self.info[image]
        if ordinal != other_ordinal or (step is None) != (other is None):
            raise SeatsBroken
        if step is None:
            try:  # typed inside a tuple too, as a finished thread's local state holds it
                if value_token(returned) != value_token(other_returned):
                    raise SeatsBroken
            except Opaque:
                raise SeatsBroken from None
            return
        expected = renamed_step(step, self.moves[a].names)
        try:  # by tokens: a value written is typed inside a tuple too ((True,) is not (1,))
            if token(other) != token(expected):
                raise SeatsBroken
        except Opaque:
            raise SeatsBroken from None

    def _lost(self, var, thread: int, writer: int) -> None:
        """Note the lost update of ``var`` by ``thread`` and ``writer`` as seen, and so the
        same update of each pair of their twins: twins trade places in any run, so each
        such pair loses an update in the run renumbered alike, which the result's assembly
        adds (``search._close_under_symmetry``); no path need show it, and the keys leave
        it out from here on (:meth:`_key`), not only once a path came across it. In a
        parallel search, tell the other workers too (:meth:`catch_up`)."""
        lost, seen, k = self.lost, self.seen, self.k
        facts = self.shared is not None and self.fact_count <= len(self.shared.facts)
        for a, b in twin_pairs(self.groups, thread, writer):
            for reader, other in ((a, b), (b, a)):
                lost.add((var, reader, other))
                if all((var, reader, o) in lost for o in range(k) if o != reader):
                    self.saturated.add((reader, var))
            first, second = (a, b) if a < b else (b, a)
            seen.add(("lost-update", var, first, second))
            if facts:
                self.shared.learn((self.var_index[var] * k + first) * k + second)

    @property
    def fact_count(self) -> int:
        """How many facts a parallel search's table holds for this walk: a lost update of
        each variable by each pair of threads (:mod:`.shared_visited`)."""
        return len(self.var_index) * self.k * self.k

    def catch_up(self) -> None:
        """Take on the lost updates other workers saw since this walk last looked: as
        seen here (no path of this walk need show them again), and keyed as they key
        their states (:meth:`_key`), so that the states past them are stored once."""
        known = self.shared.known()
        if known == self.facts or self.fact_count > len(known):
            return
        before, self.facts = self.facts, known
        names, k = list(self.var_index), self.k
        for fact, byte in enumerate(known):
            if byte and (fact >= len(before) or not before[fact]):
                var, pair = divmod(fact, k * k)
                first, second = divmod(pair, k)
                if ("lost-update", names[var], first, second) not in self.seen:  # _lost notes it seen
                    self._lost(names[var], first, second)

    # ---- the walk ----------------------------------------------------------------------

    def _start(self) -> None:
        me, outer = self._watched()  # each thread's code up to its first step
        try:
            self._begin()
        except BaseException:  # the walk is given up (the strategy replays, or the search stops)
            self.drop_spares()
            raise
        finally:
            self._unwatched(me, outer)

    def _begin(self) -> None:
        locals_ = []
        for thread, factory in enumerate(self.program.factories):
            try:
                gen = factory()
                if gen.__class__ is not _GENERATOR:
                    raise Unsupported
                self.race_sites.code_bits.append(1 << self.codes.setdefault(gen.gi_code, len(self.codes)))
            except KeyboardInterrupt:
                raise
            except BaseException:
                raise Unsupported from None  # a thread that cannot start: the engine says why
            try:
                step = gen.send(None)
            except StopIteration as stop:
                locals_.append(self._local(thread, None, None, 0, (), stop.value))
                continue
            except BaseException:
                _close(gen)
                raise Unsupported from None  # a thread that cannot start: the engine says why
            try:
                locals_.append(self._local(thread, gen, step, 0, ()))
            except BaseException as error:
                _close(gen)
                if isinstance(error, _Special):
                    raise Unsupported from None  # a bad first step: the engine's runs say so
                raise
            self.spare[thread] = gen
        for a, move in enumerate(self.moves):
            for thread, local in enumerate(locals_):
                self._map(a, local, locals_[move.threads[thread]])
        live = 0
        for thread, local in enumerate(locals_):
            if self.info[local][1] is not None:
                live |= 1 << thread
        root = _State(tuple(self.program.initial.values()), (None,) * len(self.locks), (0,) * len(self.locks),
                      tuple(locals_), {}, {}, {}, (1,) * self.k, live, None)
        key = self._key(root)
        if key is not None:
            self.visited[key] = 0
            fingerprint = self._fingerprint() if self.stable else None
            if fingerprint is not None:
                self.unshared.append((fingerprint, 0))
        self._root = root
        self._push(root)
        self.first = self._terminal(root)  # a program whose threads take no step: one empty run

    def _push(self, state: _State, asleep: int = 0) -> None:
        # the state, its enabled threads, how many of them were tried, the threads asleep
        # there, and those tried so far (as bits)
        self.stack.append([state, self._enabled(state), 0, asleep, 0])

    def _enabled(self, state: _State) -> list[int]:
        """The threads to explore from ``state``: every enabled one, or, where a thread's
        pending step releases a lock it holds, that thread alone (the least such in the
        key's numbering, so that states with one key explore alike).

        That one step is a persistent set (Godefroid 1996, ch. 4): the only steps that do
        not commute with it are other threads' steps on its lock, an acquire (which waits
        for the release) or a release by a thread that does not hold the lock. A state
        where a thread is about to make such a release arises only by that thread's own
        step and stays one until it takes it, so a walk with releases first meets one if
        any is reachable (in the program where such a thread is stuck, it reaches every
        state where no thread can step, Godefroid ch. 6): at one, this raises
        :class:`ForeignRelease`, and the strategy walks again without releases first
        (docs/architecture.md, Releases first)."""
        enabled = []
        owned = 0  # threads about to release a lock they hold
        info, locks, owner = self.info, self.locks, state.owner
        for thread, local in enumerate(state.locals):
            step = info[local][1]
            if step is None:
                continue
            cls = step.__class__
            if cls is Acquire:
                n = locks[step[1]]
                holder = owner[n]
                if holder is not None and not (holder == thread and self.reentrant[n]):
                    continue
            elif cls is Release and self.releases_first:
                if owner[locks[step[1]]] != thread:
                    raise ForeignRelease
                if self._alone(thread, local):
                    owned |= 1 << thread
            enabled.append(thread)
        if owned:
            perm = self.perm
            if perm is None:
                return [(owned & -owned).bit_length() - 1]
            keyed = renumbered_mask(owned, perm)
            return [inverse(perm)[(keyed & -keyed).bit_length() - 1]]
        return enabled

    def _alone(self, thread: int, local: int) -> bool:
        """Whether the release pending in ``local`` may be explored alone: a run ended
        while the thread waits there (by another thread's exception, or its own release
        that ends the run: an exception after it, a bad next step, the step budget) is not
        a state the walk goes on from, and must show nothing a run with the release taken
        first does not. So the release must not end the run itself, and closing the
        thread there (what the engine does at a run's end) must raise nothing."""
        alone = self.alone.get(local)
        if alone is None:
            try:
                self._next(thread, local, None)
            except _Special:
                alone = False
            else:
                gen = None
                try:
                    gen = self._fresh(thread, self.info[local][3])
                    gen.close()
                    alone = True
                except KeyboardInterrupt:
                    raise
                except BaseException:  # noqa: BLE001 - a close error: the engine reports it
                    alone = False
                    if gen is not None:
                        abandon(gen)
            self.alone[local] = alone
        return alone

    def next_schedule(self) -> list[int] | None:
        """The next path to run through the engine (thread numbers), or None when the walk is
        done, paused (a unit's time) or :attr:`spent` (its runs reached ``limit``)."""
        self.paused = False
        if self.pruned + self.runs >= self.limit:
            self.spent = True
            return None
        try:
            schedule = self._walk()
        finally:
            if self.spare:  # the first path steps every thread that can step: its spare is used
                self.drop_spares()
        if schedule is not None:
            self.runs += 1
            if self.fresh_races:
                for key in self.fresh_races:
                    self.race_paths.setdefault(key, tuple(schedule))
                self.fresh_races.clear()
        return schedule

    def drop_spares(self) -> None:
        """Close the generators :meth:`_start` kept that no transition used."""
        spare, self.spare = self.spare, {}
        for gen in spare.values():
            _close(gen)

    def _walk(self) -> list[int] | None:
        stack, path = self.stack, self.path
        if self.first:
            self.first = False
            return []
        if self.handed is not None:
            handed, self.handed = self.handed, None
            return handed
        counter, every = 0, self.check_every
        while stack:
            counter += 1
            if not counter & every:  # now and then: the clock, a unit's time, a portfolio's turn
                if self.passed[0]:
                    raise TimeLimitReached
                if self.shared is not None:  # and what the other workers learned
                    self.catch_up()
                if self.pause is not None and (time.monotonic() >= self.pause or (  # a unit's time is up
                        self.hungry is not None and self.hungry[0] and time.monotonic() >= self.early)):
                    self.paused = True
                    return None
                if self.turn_over is not None and self.turn_over():
                    self.paused = True  # a portfolio's turn is over
                    return None
            frame = stack[-1]
            state, enabled, tried, asleep, done = frame
            if self.owed and (tried >= len(enabled) or tried >= 1):
                # the path is about to lose steps that showed something new: run it first
                self.owed = False
                return list(path)
            if tried >= len(enabled):
                stack.pop()
                if path:
                    path.pop()
                if enabled and not done:  # every thread that could step here sleeps: a run cut,
                    self.pruned += 1  # as a replaying search's is, and counted alike
                    if self.pruned + self.runs >= self.limit:
                        self.spent = True
                        return None
                continue
            frame[2] = tried + 1
            thread = enabled[tried]
            if asleep >> thread & 1:
                continue  # its step from here leads where it was explored from before
            frame[4] = done | 1 << thread
            try:
                after, novel = self._step(state, thread, False, asleep | done)
            except _Special:
                # a step that ends the run does not commute with any: where the others stand
                # when it ends shows (closing a thread may fail), so it sleeps nowhere
                frame[4] = done
                self.owed = False
                return path + [thread]
            if after is None:  # visited
                self.pruned += 1
                if novel:
                    self.owed = False
                    return path + [thread]
                if self.pruned + self.runs >= self.limit:  # a budget of runs: each step into a
                    self.spent = True  # state visited ends one, as a replaying search's run is cut
                    return None
                continue
            path.append(thread)
            self._push(after, self.asleep)
            if novel or self._terminal(after):
                self.owed = True  # handed out once the path stops growing
        return None

    def _sleep_after(self, state: _State, thread: int, candidates: int) -> int:
        """The sleep set after ``thread``'s step from ``state``: of the threads asleep there
        or tried there before it (``candidates``), those whose pending steps commute with its
        step (Godefroid 1996, ch. 5 and 6: a dependent step wakes a sleeping thread up).
        Two steps may not commute when they access one variable, one of them a write, or
        take or let go of one lock; everything else commutes, in the program and in every
        summary the key holds (stale reads, knowers, access lists)."""
        candidates &= ~(1 << thread)
        if not candidates or not self.sleep:
            return 0
        info, locals_ = self.info, state.locals
        taken = info[locals_[thread]][1]
        name, cls = taken[1], taken.__class__
        access = cls is Read or cls is Write
        reads = cls is Read
        after = 0
        while candidates:
            bit = candidates & -candidates
            candidates ^= bit
            step = info[locals_[bit.bit_length() - 1]][1]
            if step is None:
                continue
            if step[1] != name:
                after |= bit
                continue
            other = step.__class__
            if (other is Read or other is Write) != access or (reads and other is Read):
                after |= bit
        return after

    # ---- a parallel search's work units ------------------------------------------------

    def share(self, table) -> None:
        """Visit from now on through ``table``, shared with other processes; the states
        visited so far go into it first (a coordinator's, before it hands out units).
        From then on (:mod:`.race_sites`), where the coordinator let epochs go, every
        process lets them go against the sites it learned (sent with the job), and any
        other site raises SitesGrew: the search runs serially; where it let none go, no
        process does (each would rest on the sites it learned, while another learns more)."""
        self.shared = table
        sites = self.race_sites
        if sites.relied:
            sites.strict = True
        elif not sites.strict:
            sites.drops = False
        for fingerprint, asleep in self.unshared:
            table.visit(fingerprint, asleep)
        self.unshared.clear()
        for var, reader, writer in list(self.lost):  # what it learned before (each pair twice)
            self._lost(var, reader, writer)
        self.catch_up()

    def split(self) -> list[tuple]:
        """What is left of the walk, in the order the walk would take it, as starts for
        :meth:`restart`, and stop: first the walk itself, on from here but without the
        untried branches of its shallowest point that has some; then each of those as a
        start of its own. Between two paths handed out only.

        When a worker is idle (``hungry``), the walk keeps only its deepest point's
        untried branches, and hands out those of every point above it, deepest first (the
        order the walk would take them in). A walk near the end of a search splits so
        when another worker runs dry: its shallowest branches mostly lead into states
        visited already, so handing out those alone fed the idle worker a unit it ended at
        once, and the search's last second ran on one worker (counter 5x3: 0.9 s of 5.4)."""
        stack, path = self.stack, self.path
        if not stack:
            return []
        tried = tuple(frame[2] for frame in stack)
        cuts = [depth for depth, frame in enumerate(stack) if frame[2] < len(frame[1])]
        cut = cuts[0] if cuts else None
        if len(cuts) > 1 and self.hungry is not None and self.hungry[0]:
            cuts.pop()  # the walk goes on with the deepest one's: the rest are handed out
            tried = tuple(len(frame[1]) if depth in cuts else frame[2] for depth, frame in enumerate(stack))
            cut = None  # (no point left with branches both kept and handed out)
            cuts.reverse()
            walk_on = True
        else:
            cuts = cuts[:1]
            walk_on = cut is not None
        # the walk goes on with each point's sleep set and threads tried, as it has them
        sleeps = tuple((frame[3], frame[4]) for frame in stack)
        starts = [(tuple(path), tried, cut, self.owed, sleeps)] if walk_on or self.owed else []
        for at in cuts:  # (a thread asleep there was explored elsewhere: no start of its own)
            prefix = tuple(path[:at])
            _state, enabled, tried_there, asleep, done = stack[at]
            # each start's step is taken as the walk would take it there: with the threads
            # asleep there and those tried before it (here, or in the starts before it) as
            # the candidates for the sleep set below it
            sleepers = asleep | done
            for thread in enabled[tried_there:]:
                if not asleep >> thread & 1:
                    starts.append((prefix + (thread,), None, None, False, sleepers))
                    sleepers |= 1 << thread
        stack.clear()
        path.clear()
        self.owed = self.first = False
        self.handed = None
        return starts

    def restart(self, start: tuple) -> None:
        """Walk on from a start :meth:`split` handed back (here or in another process).

        ``(path, tried, cut, owed, sleeps)`` goes on with the walk that split: its steps
        are taken again without looking at the visited states (that walk took them), each
        point with as many branches tried as there and its sleep set and threads tried
        (``sleeps``), the point ``cut`` without the branches handed out as starts of their
        own, and the path it owed the search still owed.
        ``(prefix, None, None, False, sleepers)`` is such a branch: the points along the
        prefix have no branches left here, and its last step is one nobody took yet, taken
        as the walk takes a step, with ``sleepers`` (the threads asleep at its point or
        tried there before it) for the sleep set below it (what it shows is handed out;
        into a state visited, nothing below)."""
        try:
            self._restart(start)
        except BaseException:
            self.drop_spares()
            raise

    def _restart(self, start: tuple) -> None:
        path, tried, cut, owed, sleeps = start
        sleepers, sleeps = (sleeps, None) if tried is None else (0, sleeps)
        if self.shared is not None:
            self.catch_up()
        self.stack.clear()
        self.path = []
        self.first = self.owed = self.paused = False
        self.handed = None
        self.passed = DEADLINES.get(get_ident(), NO_DEADLINE).passed
        state = self._root
        self._key(state)  # its numbering of threads, for the threads to explore (_enabled)
        self._push(state)
        last = len(path) - 1
        for depth, thread in enumerate(path):
            frame = self.stack[-1]
            if thread not in frame[1]:
                raise Unsupported  # not the program the walk that split took it for: replay
            frame[2] = len(frame[1]) if tried is None else tried[depth]
            if sleeps is not None:
                frame[3], frame[4] = sleeps[depth]
            if depth == cut:
                del frame[1][frame[2]:]
            branch = tried is None and depth == last
            try:
                after, novel = self._step(state, thread, not branch, sleepers if branch else 0)
            except _Special:  # the step ends the run: run it, if it is the branch's own
                self.stack.clear()
                if branch and not self.full:
                    self.handed = list(path)
                return
            if after is None:  # the branch leads into a state visited: explored there
                self.stack.clear()
                if novel:
                    self.handed = list(path)
                return
            self.path.append(thread)
            self._push(after, self.asleep if branch else 0)
            state = after
            if branch and (novel or self._terminal(after)):
                self.owed = True
        if tried is not None:
            frame = self.stack[-1]
            frame[2] = tried[-1]
            if sleeps is not None:
                frame[3], frame[4] = sleeps[-1]
            if cut == len(path):
                del frame[1][frame[2]:]
            self.owed = owed

    def _terminal(self, state: _State) -> bool:
        """Whether a state no thread can leave shows an outcome, deadlock or warning not seen."""
        if self.stack[-1][1]:
            return False
        info = self.info
        blocked = tuple((thread, info[local][1][1]) for thread, local in enumerate(state.locals)
                        if info[local][1] is not None)
        if blocked:
            key = ("deadlock", blocked, state.owner)
        else:
            returns = [info[local][4] for local in state.locals]
            key = ("end", outcome_key(state.values, tuple(returns)), state.owner)
        try:
            if key in self.seen:
                return False
            self.seen.add(key)
        except TypeError:
            return True
        return True

    def _step(self, state: _State, thread: int, force: bool = False, sleepers: int = 0) -> tuple[_State | None, bool]:
        """The state after ``thread``'s step and whether it showed something new; None for
        a state visited before with no more threads awake than its sleep set leaves now
        (:meth:`_sleep_after` of ``sleepers``, the threads asleep or tried before it at
        ``state``), unless ``force`` (a step the walk that split took already).
        :attr:`asleep` is then the sleep set to explore the state with: that set for a new
        state; for one visited with threads asleep that are awake now, every thread but
        those (the others were explored from it or sleep now), and the set stored with it
        shrinks to the intersection (Godefroid 1996, ch. 6)."""
        info = self.info
        local = state.locals[thread]
        _family, step, ordinal, _sent, _returned = info[local]
        cls = step.__class__
        values, owner, depth, typed = state.values, state.owner, state.depth, state.typed
        stale, knowers, accesses, epochs = state.stale, state.knowers, state.accesses, state.epochs
        novel = False
        me = 1 << thread
        if cls is Read or cls is Write:
            var = step[1]
            index = self.var_index[var]
            writes = cls is Write
            if writes:
                sent = None
                values = values[:index] + (step[2],) + values[index + 1:]
                typed = None
                stale = dict(stale)
                writer = stale.get((thread, var))
                if writer is not None:
                    key = ("lost-update", var) + tuple(sorted((thread, writer)))
                    if key not in self.seen:
                        self.seen.add(key)
                        novel = True
                        self._lost(var, thread, writer)
                for other in range(self.k):
                    if other != thread and (other, var) in stale:
                        stale[other, var] = thread
            else:
                sent = values[index]
                if (thread, var) not in self.saturated:
                    stale = dict(stale)
                    stale[thread, var] = None
                elif (thread, var) in stale:  # its lost updates were all seen: nothing to note
                    stale = dict(stale)
                    del stale[thread, var]
            # races: this access against every access of an epoch this thread does not know,
            # each by its two sites (:mod:`.race_sites`)
            raced = self.raced
            site = self.sites[local]
            listed_as = ordinal if site is None else site  # what an access list holds of it
            for (owner_thread, epoch), mask in knowers.items():
                if owner_thread == thread or mask & me:
                    continue
                listed = accesses[owner_thread, epoch]
                checked = (listed, owner_thread, thread, listed_as, var, writes)
                if checked in raced:
                    continue  # every race key this would make is in ``seen`` already
                raced.add(checked)
                while listed:
                    parent, at, accessed, wrote = self.accesses[listed]
                    if accessed == var and (wrote or writes):
                        key = self.race_sites.key(var, None if at.__class__ is int else at, owner_thread, at, wrote,
                                                  site, thread, ordinal, writes)
                        if key not in self.seen:
                            self.seen.add(key)
                            self.fresh_races.append(key)
                            self.race_sites.version += 1
                            novel = True
                    listed = parent
            here = (thread, epochs[thread])
            knowers = dict(knowers)
            accesses = dict(accesses)
            if here not in knowers:
                knowers[here] = me
            entry = (accesses.get(here, 0), listed_as, var, writes)
            listed = self.access_ids.get(entry)
            if listed is None:
                listed = self.access_ids[entry] = len(self.accesses)
                self.accesses.append(entry)
                if self.stable:
                    parent = self.access_digests[entry[0]]
                    try:
                        if parent < 0:
                            raise Unstable
                        self.access_digests.append(digest((parent,) + entry[1:]))
                    except Unstable:
                        self.access_digests.append(-1)
            accesses[here] = listed
        else:
            n = self.locks[step[1]]
            holder = owner[n]
            sent = None
            if cls is Acquire:
                if holder == thread:  # an RLock taken again
                    depth = depth[:n] + (depth[n] + 1,) + depth[n + 1:]
                    knowers = dict(knowers)
                else:
                    held = tuple(sorted(name for name, m in self.locks.items() if owner[m] == thread))
                    for before in held:
                        key = ("edge", before, step[1], thread, held)
                        if key not in self.seen:
                            self.seen.add(key)
                            novel = True
                    owner = owner[:n] + (thread,) + owner[n + 1:]
                    depth = depth[:n] + (1,) + depth[n + 1:]
                    bit = self.channel[n]
                    knowers = {known: (mask | me if mask & bit else mask) for known, mask in knowers.items()}
            else:
                if holder is None or (holder != thread and self.reentrant[n]):
                    # a release of a lock not held: threading raises RuntimeError into the
                    # thread. Uncaught, the run ends there (the engine words the finding);
                    # caught, the thread goes on, which the walk does not follow: replay
                    if self._catches(thread, local, RELEASE_UNOWNED if self.reentrant[n] else RELEASE_UNLOCKED):
                        raise Unsupported
                    raise _Special
                if holder != thread:  # threading.Lock lets another thread release it: a warning
                    key = ("foreign-release", thread, step[1], holder)
                    if key not in self.seen:
                        self.seen.add(key)
                        novel = True
                    depth = depth[:n] + (1,) + depth[n + 1:]  # let go entirely, below
                left = depth[n] - 1
                depth = depth[:n] + (left,) + depth[n + 1:]
                if not left:
                    owner = owner[:n] + (None,) + owner[n + 1:]
                bit = self.channel[n]
                knowers = {known: (mask | bit if mask & me else mask) for known, mask in knowers.items()}
                epochs = epochs[:thread] + (epochs[thread] + 1,) + epochs[thread + 1:]
            accesses = dict(accesses)  # _key prunes the new state's own tables
        nxt = self._next(thread, local, sent)
        locals_ = state.locals[:thread] + (nxt,) + state.locals[thread + 1:]
        live = state.live if info[nxt][1] is not None else state.live & ~me
        after = _State(values, owner, depth, locals_, stale, knowers, accesses, epochs, live, typed)
        key = self._key(after)
        self.asleep = 0
        if force:
            return after, novel
        if key is not None:
            visited = self.visited
            stored = visited.get(key)
            if stored == 0:  # explored with every thread awake (most states): nothing is left
                return None, novel
            self.asleep = asleep = self._sleep_after(state, thread, sleepers) if sleepers else 0
            perm = self.perm
            mine = asleep if perm is None or not asleep else renumbered_mask(asleep, perm)
            if stored is not None:
                if stored & ~mine == 0:  # explored with no more threads awake than now
                    return None, novel
                visited[key] = stored & mine
                left = stored & ~mine
                self.asleep = self.all & ~(left if perm is None else renumbered_mask(left, inverse(perm)))
                return after, novel
            if self.max_states is not None and len(visited) >= self.max_states:
                self.full = True
                self.stack.clear()
                raise _Special
            visited[key] = mine
            if len(visited) == COMPACT_AT and not self.exact:
                self.visited = FingerprintSet.of(visited, threads=self.k)
            if self.stable:
                fingerprint = self._fingerprint()
                if fingerprint is None:
                    pass
                elif self.shared is None:
                    self.unshared.append((fingerprint, mine))
                else:
                    answer = self.shared.visit(fingerprint, mine)
                    if answer == 0:
                        # another worker took it on with no more threads awake than now (the
                        # table stores it once): this one knows it now
                        self.foreign += 1
                        return None, novel
                    if answer is not None and answer != NEW:  # the threads asleep there then, awake now
                        self.asleep = self.all & ~(answer if perm is None else renumbered_mask(answer, inverse(perm)))
        return after, novel

    def _held(self, values: tuple) -> tuple:
        """The values' part of a key: each value's token (:func:`.frames.value_token`), or
        for a variable's initial value that has none, the variable's number (that object
        is every run's); any other value without a token raises TypeError: its state is
        like no other (``==`` may call two of them equal that a thread tells apart)."""
        held = []
        initial = self.initial
        for n, value in enumerate(values):
            try:
                held.append(value_token(value))
            except Opaque:
                if value is not initial[n]:
                    raise TypeError from None
                held.append(("initial", n))
        return tuple(held)

    def _key(self, state: _State):
        """The state's key (as :mod:`.state_keys` makes it), numbered part by part and
        fingerprinted unless exact; None when a value cannot be hashed."""
        live = state.live
        relevant = live | self.channel_bits
        knowers, accesses = state.knowers, state.accesses
        races = []
        dead = self.race_sites.is_dead
        for epoch, mask in list(knowers.items()):
            others = live & ~(1 << epoch[0])
            if mask & others == others or dead(accesses[epoch], self.accesses, others & ~mask):
                # known to every thread that can still access, or every race it could make
                # was seen (race_sites): never shows anything new again
                del knowers[epoch]
                accesses.pop(epoch, None)
            else:
                races.append((epoch, mask & relevant, accesses[epoch]))
        stale = []
        if state.stale:
            # What a stale read can still show is the lost update of its reader and the
            # variable's last writer since. Once that pair was seen, the entry shows nothing
            # new, as an entry without a writer (a read not yet overwritten): it is keyed so.
            # Once the reader's pairs with every other thread were seen, no writer can make
            # the entry show anything new: it is left out, as for a variable not read.
            lost, saturated = self.lost, self.saturated
            for item in state.stale.items():
                (reader, var), writer = item
                if not live >> reader & 1 or (reader, var) in saturated:
                    continue
                if writer is not None and (var, reader, writer) in lost:
                    item = (item[0], None)
                stale.append(item)
        threads = state.locals
        owner, depth = state.owner, state.depth
        perm = renamed = None
        epoch_renamed = self.epoch_renamed
        if self.groups or self.moves:
            arranged = self.arranged.get(threads)
            if arranged is None:
                if len(self.arranged) >= ARRANGED:  # a cache, not a table of every state's
                    self.arranged.clear()
                arranged = self.arranged[threads] = self._arrange(threads)
            perm, order, renamed, move = arranged
            if perm is not None:
                if move is None:
                    threads = tuple(map(threads.__getitem__, order))
                    if owner:
                        owner = tuple(None if holder is None else perm[holder] for holder in owner)
                else:  # lock n is called move.locks[n]: its holder and depth move there
                    moved = self.moved.get((move, owner, depth))
                    if moved is None:
                        if len(self.moved) >= ARRANGED:  # a cache too
                            self.moved.clear()
                        moved_owner, moved_depth = [None] * len(owner), [0] * len(depth)
                        for n, m in enumerate(move.locks):
                            holder = owner[n]
                            moved_owner[m] = None if holder is None else perm[holder]
                            moved_depth[m] = depth[n]
                        moved = self.moved[move, owner, depth] = (tuple(moved_owner), tuple(moved_depth))
                    owner, depth = moved
                    epoch_renamed = move.epochs
                    threads = order  # the local states the move sends them to, in its order
        self.perm = perm
        parts = self.parts
        numbered = []
        try:
            number = state.typed  # the values' number: a step that writes none keeps its state's
            if number is None:
                part = self._held(state.values)
                number = parts.get(part)
                if number is None:
                    number = parts[part] = len(parts)
                    if self.stable:
                        self.part_digests.append(self._part_digest(part))
                state.typed = number
            numbered.append(number)
            if self.locks:
                for part in (owner, depth):
                    number = parts.get(part)
                    if number is None:
                        number = parts[part] = len(parts)
                        if self.stable:
                            self.part_digests.append(self._part_digest(part))
                    numbered.append(number)
        except TypeError:
            return None
        elements, summaries = self.elements, self.summaries
        for summary, rename in ((stale, renumbered_stale), (races, epoch_renamed)):
            if not summary:  # (most states' races, once their epochs were let go)
                numbered.append(self.no_summary)
                continue
            if perm is None:
                ids = [*map(elements.get, summary)]
                if None in ids:
                    ids = [self._element(element) for element in summary]
            else:  # each entry's number under the renumbering, once worked out
                ids = [*map(renamed.get, summary)]
                if None in ids:
                    ids = [self._renamed(element, perm, renamed, rename) for element in summary]
            ids.sort()
            part = tuple(ids)
            number = summaries.get(part)
            if number is None:
                number = summaries[part] = len(summaries)
                if self.stable:
                    self.summary_digests.append(self._summary_digest(part))
            numbered.append(number)
        key = (*numbered, *threads)
        if self.exact:
            return key
        self.made = key  # for its fingerprint, should the state be new here
        return hash(key)

    def _part_digest(self, part) -> int:
        """A part's digest (:mod:`.fingerprints`); -1 when it has none."""
        try:
            return digest(part)
        except Unstable:
            return -1

    def _arrange(self, threads: tuple) -> tuple:
        """``(perm, order, renamed, move)`` for a tuple of local states: the renumbering that
        orders interchangeable threads by their states (None: none moves), the threads in
        the key's order (a seat move's: their images' local states, in its order), the
        renumbering's table of summary entries to their numbers (:meth:`_renamed`), and the
        seat move it makes (None: twins only trade places); for twins, one such tuple per
        renumbering, shared by every tuple of local states it orders."""
        if self.moves:
            return self._seat(threads)
        # a parallel search orders interchangeable threads by digest: the same order everywhere
        order, perm = renumbering(self.groups, list(map(self.digests.__getitem__, threads)) if self.stable
                                  else threads, None)
        if perm is None:
            return _UNMOVED
        arrangement = self.renamings.get(tuple(perm))
        if arrangement is None:
            arrangement = self.renamings[tuple(perm)] = (perm, tuple(order), {}, None)
        return arrangement

    def _seat(self, threads: tuple) -> tuple:
        """The arrangement of a state under the seat move that makes its tuple of local
        states least (a parallel search's: of their digests; ties: the first move): every
        move maps a state to one with the same future, renamed, so any choice is sound; the
        least merges the most."""
        best, chosen = threads, 0
        images, orders = self.images, self.seat_orders
        if self.stable:  # by digests, so that every process picks the same move
            digests = self.digests
            least = tuple(map(digests.__getitem__, threads))
            for a in range(1, len(self.moves)):
                keyed = tuple(map(images[a].__getitem__, map(threads.__getitem__, orders[a])))
                ranked = tuple(map(digests.__getitem__, keyed))
                if ranked < least:
                    best, chosen, least = keyed, a, ranked
        else:
            head = best[0]
            for a in range(1, len(self.moves)):
                image, order = images[a], orders[a]
                if image[threads[order[0]]] > head:
                    continue  # its first local state already orders it after the least
                keyed = tuple(map(image.__getitem__, map(threads.__getitem__, order)))
                if keyed < best:
                    best, chosen, head = keyed, a, keyed[0]
        if not chosen:
            return _UNMOVED
        arrangement = self.renamings.get(chosen)
        if arrangement is None:
            move = self.moves[chosen]
            arrangement = self.renamings[chosen] = (list(move.threads), {}, _Moved(move.locks, self.epoch_moves[chosen]))
        return arrangement[0], best, arrangement[1], arrangement[2]

    def _renamed(self, element: tuple, perm: list[int], renamed: dict, rename) -> int:
        """The number of a summary entry with its threads renumbered by ``perm``."""
        number = renamed.get(element)
        if number is None:
            number = renamed[element] = self._element(rename(perm, element))
        return number

    def _element(self, element: tuple) -> int:
        """The number of a summary entry, numbered now if new."""
        number = self.elements.get(element)
        if number is None:
            number = self.elements[element] = len(self.elements)
            if self.stable:
                self.element_digests.append(self._element_digest(element))
        return number

    def _element_digest(self, element: tuple) -> int:
        """A summary entry's digest: a stale read as it is, an epoch's with its access list
        by the list's digest; -1 when it has none."""
        try:
            if len(element) == 3:  # an epoch: (owner and number, knowers, access list)
                listed = self.access_digests[element[2]]
                if listed < 0:
                    return -1
                element = (element[0], element[1], listed)
            return digest(element)
        except Unstable:
            return -1

    def _summary_digest(self, part: tuple) -> int:
        """A summary's digest, from its entries' (in their digests' order); -1 when one has none."""
        digests = sorted(map(self.element_digests.__getitem__, part))
        if digests and digests[0] < 0:
            return -1
        return digest(tuple(digests))

    def _fingerprint(self) -> int | None:
        """The fingerprint of the state :meth:`_key` was last given, the same in every
        process (:mod:`.fingerprints`): the digests of its parts and local states in place
        of this process's numbers; None when one has none (the state stays this
        process's). Only for a state new here: the key is what this process's own set of
        visited states keeps."""
        key = self.made
        n = 3 if self.locks else 1  # the parts: values, (lock holders, depths,) then two summaries
        fingerprint = (*map(self.part_digests.__getitem__, key[:n]),
                       *map(self.summary_digests.__getitem__, key[n:n + 2]),
                       *map(self.digests.__getitem__, key[n + 2:]))
        if min(fingerprint) < 0:
            return None
        return hash(fingerprint)

class _Moved:
    """A seat move as the key applies it: its locks, and how it renames a racing epoch."""

    __slots__ = ("epochs", "locks")

    def __init__(self, locks: tuple, epochs) -> None:
        self.locks, self.epochs = locks, epochs


class _State:
    """One state of the walk: shared values, each lock's holder and depth, each thread's
    local-state number, and the detectors' summaries (stale reads; per epoch, its knowers
    and its accesses; each thread's epoch)."""

    __slots__ = ("accesses", "depth", "epochs", "knowers", "live", "locals", "owner", "stale", "typed", "values")

    def __init__(self, values, owner, depth, locals_, stale, knowers, accesses, epochs, live, typed) -> None:
        self.values, self.owner, self.depth, self.locals = values, owner, depth, locals_
        self.stale, self.knowers, self.accesses, self.epochs = stale, knowers, accesses, epochs
        self.live = live  # bit i: thread i has a step to take
        self.typed = typed  # the number of the values' part of the key, once made (None: not yet)


def _sent_token(value) -> object:
    """A value sent into a thread as the walk tells values apart (:func:`.frames.value_token`:
    ``0.0`` and ``-0.0`` apart, a dataclass by its fields); one no token shows (an instance
    with an ``__eq__`` of its own) is left to the replaying search."""
    try:
        return value_token(value)
    except Opaque:
        raise Unsupported from None


class _Pieces:
    """How many pieces of the threads' code the walk has run: its progress, as the number
    of an execution's events is one's to the watchdog (``len``)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __len__(self) -> int:
        return self.count


class _Learning:
    """What the watchdog sees running while the walk runs a thread's own code: an execution
    that has not ended (``status``), whose events are the pieces run."""

    __slots__ = ("events", "status")

    def __init__(self) -> None:
        self.events = _Pieces()
        self.status = None


def _close(gen) -> None:
    if gen is None:
        return
    try:
        gen.close()
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a finally block that yields or raises: the engine's runs say so
        abandon(gen)
