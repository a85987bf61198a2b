"""What a search's executions showed, kept so that two searches' tallies can be merged.

A serial search keeps one :class:`Tally`. A parallel one keeps one per work unit and
merges them in exploration order (:meth:`Tally.merge`): counts add, and where two
executions show the same thing, the better witness wins (:func:`better`): the lower
score, then the smaller schedule, whichever was explored first, so that neither the order
of the units nor a reduced search's order of runs changes which trace is shown.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from types import ModuleType

from .._text import PLAIN as _PLAIN
from .._text import shown
from ..detectors.lock_order import LockOrderEdges
from ..detectors.lost_update import LostUpdateKeys, lost_update_finding
from ..detectors.races import RacePairs, race_finding
from ..findings import RawFinding
from ..outcomes import outcome_key
from ..plain.modules import filled
from ..scenario import compared_by_identity
from .execution import COMPLETED, DEADLOCKED, DIVERGED, FAILED, HUNG, TRUNCATED, Execution, safe_str
from .linearize import Precedence
from .watchdog import TimeLimitReached


class Tally:
    """The counts, outcomes, findings and lock-order edges of a run of executions, each
    with the witness execution that shows it best (lowest score, then smallest schedule:
    :func:`better`)."""

    __slots__ = ("counts", "edge_cap", "edge_sets", "edge_witness", "executions", "first", "found",
                 "outcome_counts", "pruned", "steps", "stop_reason", "stopped_in", "witnesses")

    def __init__(self, edge_cap: int | None = None) -> None:
        self.counts = {COMPLETED: 0, DEADLOCKED: 0, FAILED: 0, TRUNCATED: 0, DIVERGED: 0, HUNG: 0}
        self.outcome_counts: dict[tuple, int] = {}
        self.witnesses: dict[tuple, tuple] = {}  # outcome key -> (score, events) of its best execution
        self.found: dict[tuple, list] = {}  # finding key -> [raw finding, events, occurrences, score]
        self.edge_witness: dict[tuple, tuple] = {}  # lock-order edge -> (score, events) of its best execution
        self.edge_sets: dict[frozenset, list] = {}  # the edges of an execution -> [score, events, executions]
        self.edge_cap = MAX_EDGE_SETS if edge_cap is None else edge_cap
        self.executions = 0
        self.steps = 0
        self.pruned = 0
        self.first: list = []  # the first execution's events: what later runs were checked against
        self.stop_reason: str | None = None
        self.stopped_in: str | None = None  # the thread's code the stop landed in (Execution.stopped_in)

    def merge(self, later: Tally) -> None:
        """Add ``later``'s executions, explored after this tally's."""
        if self.stop_reason is not None:
            return  # the search stopped before ``later``'s executions
        for status, count in later.counts.items():
            self.counts[status] += count
        if not self.executions:
            self.first = later.first
        self.executions += later.executions
        self.steps += later.steps
        self.pruned += later.pruned
        self.stop_reason = later.stop_reason
        self.stopped_in = later.stopped_in
        outcome_counts, witnesses = self.outcome_counts, self.witnesses
        for key, count in later.outcome_counts.items():
            theirs = later.witnesses[key]
            if len(key) == 3:  # its NaNs came through pickle as new objects: make them the shared one again
                key = outcome_key(key[0], key[1])
            seen = outcome_counts.get(key)
            if seen is None:
                outcome_counts[key] = count
                witnesses[key] = theirs
            else:
                outcome_counts[key] = seen + count
                mine = witnesses[key]
                if better(theirs[0], theirs[1], mine[0], mine[1]):
                    witnesses[key] = theirs
        found = self.found
        for key, (raw, events, occurrences, score) in later.found.items():
            entry = found.get(key)
            if entry is None:
                if events is None:
                    raise AssertionError(f"[explorer internal bug] a unit counted {key} against a witness that was "
                                         f"not merged before it (bar_races)")
                found[key] = [raw, events, occurrences, score]
            else:
                entry[2] += occurrences
                if better(score, events, entry[3], entry[1]):
                    entry[0], entry[1], entry[3] = raw, events, score
        edge_witness = self.edge_witness
        for edge, best in later.edge_witness.items():
            mine = edge_witness.get(edge)
            if mine is None or better(best[0], best[1], mine[0], mine[1]):
                edge_witness[edge] = best
        edge_sets = self.edge_sets
        for signature, (score, events, count) in later.edge_sets.items():
            entry = edge_sets.get(signature)
            if entry is None:
                if len(edge_sets) < self.edge_cap:
                    edge_sets[signature] = [score, events, count]
            else:
                entry[2] += count
                if better(score, events, entry[0], entry[1]):
                    entry[0], entry[1] = score, events

    def bar_races(self, bars: dict) -> None:
        """Start from what another tally, merged before this one, shows of some racing pairs:
        ``bars`` maps a pair's key to the fewest preemptions of a run that shows it
        interleaved there (:func:`race_bars`). A run of this tally's with more preemptions
        ranks below that witness whatever the rest of its rank, so it only counts the pair
        (:func:`_note_races`), as a serial search that had seen that witness would: a work
        unit would otherwise rank every pair again until it had a witness of its own
        (``benchmarks/bench_parallel.py --inline`` counts both). Each such pair's entry
        has no witness of its own until a run of this tally's ranks at least as well, and
        a score just below the bar's, so that it never wins a merge; :meth:`unbar_races`
        drops those no run here met."""
        found = self.found
        for key, preemptions in bars.items():
            found[key] = [None, None, 0, (False, preemptions, _SERIAL)]

    def unbar_races(self) -> None:
        """Drop the entries :meth:`bar_races` made that no run met."""
        found = self.found
        for key in [key for key, entry in found.items() if not entry[2] and entry[1] is None]:
            del found[key]

    def compact(self) -> None:
        """Let the kept witnesses share equal events, and equal steps and lists of enabled
        threads within them (an event is ``(thread, step, value, enabled)``): a work unit's
        tally then pickles to far fewer objects (pickle writes a shared object once), and the
        coordinator, which unpickles every unit's, spends less on each. Equal means equal
        with the same types (``1`` is not ``True``), and only plain values are compared
        (ints, strings, booleans, None): anything else is left as it is. The worker does this
        once, before it sends the tally; nothing reads the identity of events, steps or lists."""
        seen: set[int] = set()
        runs = [events for _score, events in self.witnesses.values()]
        runs += [entry[1] for entry in self.found.values() if entry[1] is not None]  # None: barred (bar_races)
        runs += [events for _score, events in self.edge_witness.values()]
        runs += [entry[1] for entry in self.edge_sets.values()]
        steps: dict = {}  # id of a step -> (it, the one kept for its equals): it stays alive
        equal_steps: dict = {}  # a step's items with their types -> the one kept
        lists: dict = {}  # the threads of an enabled list -> the one kept
        shared: dict = {}  # (thread, id of its step, value, its type, id of its list) -> the event kept
        for events in runs:
            if id(events) in seen:
                continue
            seen.add(id(events))
            last = last_kept = None
            for position, event in enumerate(events):
                thread, step, value, enabled = event
                if enabled is not last:
                    last = enabled
                    kept = lists.get(tuple(enabled))
                    if kept is None:
                        kept = lists[tuple(enabled)] = enabled
                    last_kept = kept
                known = steps.get(id(step))
                if known is None:
                    known = steps[id(step)] = (step, _one_of(step, equal_steps))
                mine = known[1]
                if value.__class__ in _PLAIN:
                    key = (thread, id(mine), value, value.__class__, id(last_kept))
                    kept = shared.get(key)
                    if kept is None:
                        kept = shared[key] = (thread, mine, value, last_kept)
                    events[position] = kept
                elif mine is not step or last_kept is not enabled:
                    events[position] = (thread, mine, value, last_kept)


def race_bars(tally: Tally) -> dict:
    """What :meth:`Tally.bar_races` takes from ``tally``: for each racing pair it shows
    interleaved, the preemptions of its witness."""
    return {key: entry[3][1] for key, entry in tally.found.items()
            if entry[0].__class__ is _Race and entry[1] is not None and not entry[3][0]}


def _one_of(step, equal_steps: dict):
    """The step kept for ``step``'s equals (with items of the same plain types), or the step
    itself when an item is not plain."""
    items = tuple(step)
    if not all(item.__class__ in _PLAIN for item in items):
        return step
    key = (step.__class__, items, tuple(item.__class__ for item in items))
    return equal_steps.setdefault(key, step)


def _note(found: dict, raw: RawFinding, run: Execution) -> None:
    events = run.events
    score = (run.preemptions, len(events))
    entry = found.get(raw.key)
    if entry is None:
        found[raw.key] = [raw, events, 1, score]
        return
    entry[2] += 1
    if better(score, events, entry[3], entry[1]):
        entry[0], entry[1], entry[3] = raw, events, score


def better(score: tuple, events: list[tuple], best: tuple, best_events: list[tuple]) -> bool:
    """Whether a run of ``events`` scoring ``score`` is a better witness than the one kept
    (``best``, ``best_events``): a lower score (fewest preemptions, then fewest steps), or
    an equal one and a schedule that comes first thread by thread. Exhaustive search runs
    schedules in that order, so there this is the first run explored; a reduced search
    (dpor, stateful) runs one schedule per trace in an order that depends on its races,
    and a parallel search merges its units' tallies: with the schedule as the last word,
    neither changes which trace a finding shows.

    >>> A, B = 0, 1
    >>> better((0, 2), [(A,), (B,)], (0, 2), [(B,), (A,)]), better((0, 2), [(B,), (A,)], (0, 2), [(A,), (B,)])
    (True, False)
    >>> better((1, 2), [(A,), (B,)], (0, 2), [(B,), (A,)])
    False
    """
    if score != best:
        return score < best
    if events is best_events:
        return False
    for mine, theirs in zip(events, best_events):
        if mine[0] != theirs[0]:
            return mine[0] < theirs[0]
    return len(events) < len(best_events)


def _writer(run: Execution, var: str) -> tuple[str | None, int | None, int]:
    """The thread that last wrote ``var`` in ``run`` (a write or an update), its index and the step number."""
    names = run.program.thread_names
    for position in range(len(run.events) - 1, -1, -1):
        thread, step = run.events[position][0], run.events[position][1]
        if step[0] in ("write", "update") and step[1] == var:
            return names[thread], thread, position + 1
    return None, None, 0


#: The errors the search makes of a completed run's final values and returns (the third
#: part of their keys), not the engine: a replay of the run, which only runs it, never
#: shows them again, and is not to be taken for a run that went otherwise.
OUTCOME_ERRORS = frozenset({"unhashable", "unhashable-return", "identity", "identity-return", "equality",
                            "equality-return"})


def _unhashable(run: Execution) -> RawFinding:
    names = run.program.thread_names
    scenario = run.program.scenario.name
    for var, value in run.values.items():
        problem = _hash_problem(value)
        if problem is not None:
            writer, thread, at = _writer(run, var)
            message = (f"scenario {scenario!r}: thread {writer} wrote {shown(value)} ({type(value).__name__}) to "
                       f"{var!r} at step {at}, {problem}; shared values must be hashable and never "
                       f"mutated in place (a tuple, not a list)")
            return RawFinding("error", "error", thread, ("error", thread, "unhashable", var),
                              message, {"variable": var, "position": len(run.events)})
    for i, value in enumerate(run.returns):
        problem = _hash_problem(value)
        if problem is not None:
            message = (f"scenario {scenario!r}: thread {names[i]} returned {shown(value)} ({type(value).__name__}), "
                       f"{problem}; outcomes are counted by value, so return a tuple, not a list")
            return RawFinding("error", "error", i, ("error", i, "unhashable-return"),
                              message, {"position": len(run.events)})
    refused = refuses_equality(run)  # hashable, but its == raised when a dict compared it
    if refused is not None:
        return refused
    raise AssertionError("[explorer internal bug] a final state failed to hash, but no value is unhashable")


def _hash_problem(value: object) -> str | None:
    """Why ``value`` cannot be hashed ("which is not hashable", or what its own ``__hash__``
    raised), or None if it can."""
    try:
        hash(value)
    except TypeError:
        return "which is not hashable"
    except Exception as exc:  # noqa: BLE001 - a user's __hash__ may raise anything
        return f"whose hash() raised {type(exc).__name__}: {safe_str(exc)}"
    return None


def identity_compared(run: Execution) -> RawFinding | None:
    """An error for a final value or a return that is an object compared by identity (of
    a class with neither ``__eq__`` nor ``__hash__`` of its own): each run makes another,
    so no two runs' outcomes would be equal, and serializability would compare apples
    with the pears of other runs. None when every value compares by value."""
    names = run.program.thread_names
    scenario = run.program.scenario.name
    advice = "return or write a value instead: a tuple, a frozen dataclass (@dataclass(frozen=True)) or a namedtuple"
    for var, value in run.values.items():
        odd = _by_identity(value, 0, run.program)
        if odd is not None:
            writer, thread, at = _writer(run, var)
            return RawFinding(
                "error", "error", thread, ("error", thread, "identity", var),
                f"scenario {scenario!r}: thread {writer} wrote {shown(value)} to {var!r} at step {at}: an object "
                f"of class {type(odd).__name__} compared by identity, which each run makes afresh, so final "
                f"states cannot be counted by value; {advice}", {"variable": var, "position": len(run.events)})
    for i, value in enumerate(run.returns):
        odd = _by_identity(value, 0, run.program)
        if odd is not None:
            return RawFinding(
                "error", "error", i, ("error", i, "identity-return"),
                f"scenario {scenario!r}: thread {names[i]} returned {shown(value)}: an object of class "
                f"{type(odd).__name__} compared by identity, which each run makes afresh, so outcomes cannot "
                f"be counted by value; {advice}", {"position": len(run.events)})
    return refuses_equality(run)


def refuses_equality(run: Execution) -> RawFinding | None:
    """An error for a final value or a return whose ``==`` raises (compared with itself):
    outcomes are counted in a dict, which compares them. None when every one compares."""
    scenario = run.program.scenario.name
    for var, value in run.values.items():
        why = _equality_error(value)
        if why is not None:
            writer, thread, at = _writer(run, var)
            return RawFinding(
                "error", "error", thread, ("error", thread, "equality", var),
                f"scenario {scenario!r}: thread {writer} wrote {shown(value)} to {var!r} at step {at}, {why}; final "
                f"states are counted by value, so shared values must equal themselves and compare without raising",
                {"variable": var, "position": len(run.events)})
    for i, value in enumerate(run.returns):
        why = _equality_error(value)
        if why is not None:
            return RawFinding(
                "error", "error", i, ("error", i, "equality-return"),
                f"scenario {scenario!r}: thread {run.program.thread_names[i]} returned {shown(value)}, {why}; "
                f"outcomes are counted by value, so return values that equal themselves and compare without raising",
                {"position": len(run.events)})
    return None


def _equality_error(value: object) -> str | None:
    """What is wrong with ``value == value``: it raised (or its truth value did), or it is
    false (but for a float, complex or Decimal NaN, which outcomes share); None if true."""
    cls = value.__class__
    if cls in _PLAIN:
        return None
    try:
        if value == value:  # noqa: PLR0124 - the comparison itself is what is checked
            return None
    except Exception as exc:  # noqa: BLE001 - whatever it raises is the user's to see
        return f"whose == raised {type(exc).__name__}: {safe_str(exc)}"
    if cls is float or cls is complex or cls is Decimal:
        return None
    return "which is not equal to itself"


def _by_identity(value: object, depth: int, program) -> object | None:
    """The first object compared by identity in ``value`` (itself, or inside its tuples)
    that a run makes afresh: one whose attributes can change, or one with none (``object()``,
    a generator) that the program does not hold before it runs (:func:`_held`)."""
    cls = value.__class__
    if cls in _PLAIN or depth > 4:
        return None
    if cls is tuple or cls is frozenset:
        return next((odd for item in value if (odd := _by_identity(item, depth + 1, program)) is not None), None)
    if compared_by_identity(value):
        return value
    if (cls.__eq__ is object.__eq__ and not callable(value)
            and not isinstance(value, (ModuleType, type)) and not cls.__module__.startswith("explorer.")
            and id(value) not in _held(program)):  # (explorer's own markers: HIDDEN, for one)
        return value
    return None


def _held(program) -> dict:
    """The objects a program's thread functions hold before any run: their module's
    globals (and one level into its classes and modules), their closures, defaults and
    bound arguments. A sentinel such as ``MISSING = object()`` is one of them, the same in
    every run; an ``object()`` a thread makes is not. Kept with the objects, so that no id
    is reused while the program lives."""
    held = program.held
    if held is None:
        held = {}

        def hold(value, inner: bool) -> None:
            held[id(value)] = value
            if inner and isinstance(value, (type, ModuleType)):
                for item in list(vars(value).values()):
                    hold(item, False)

        for factory in program.factories:
            while isinstance(factory, partial):
                for item in (*factory.args, *factory.keywords.values()):
                    hold(item, True)
                factory = factory.func
            for item in (*getattr(factory, "__globals__", {}).values(), *(getattr(factory, "__defaults__", None) or ()),
                         *(cell.cell_contents for cell in getattr(factory, "__closure__", None) or ()
                           if filled(cell))):
                hold(item, True)
        program.held = held
    return held


def _agreed(run: Execution, last: list[tuple]) -> int:
    """How many leading events ``run`` shares with ``last``, the events a detector analysed
    last: what the engine checked if ``run`` was compared with them, else counted here (the
    run after one the search abandoned, or a cut run run on to its end)."""
    if run.compared is last:
        return run.agreed
    events = run.events
    mine, theirs = getattr(events, "syncs", None) or {}, getattr(last, "syncs", None) or {}
    for position in range(min(len(events), len(last))):
        try:
            if events[position] != last[position] or mine.get(position) != theirs.get(position):
                return position
        except Exception:  # values that refuse to compare (arrays)
            return position
    return min(len(events), len(last))


def _note_lost_updates(found: dict, run: Execution, names: tuple[str, ...], lost: LostUpdateKeys) -> list:
    """:func:`_note` for each lost update, wording a finding only when it is kept; ``lost``
    analyses only what ``run`` does not share with the execution it analysed last. The
    keys not noted before."""
    located_all = lost.of(run.events, _agreed(run, lost.events))
    if not located_all:
        return []
    events = run.events
    score = (run.preemptions, len(events))
    new = []
    for located in located_all:
        key = located[0]
        entry = found.get(key)
        if entry is None:
            found[key] = [lost_update_finding(events, names, *located), events, 1, score]
            new.append(key)
        else:
            entry[2] += 1
            if better(score, events, entry[3], entry[1]):
                entry[0], entry[1], entry[3] = lost_update_finding(events, names, *located), events, score
    return new


def _note_races(found: dict, run: Execution, k: int, passed: list, racing: RacePairs,
                reorder: tuple | None = None) -> None:
    """:func:`_note` for each racing pair, with the trace that shows it best
    (:func:`.detectors.races.witness_ranks`: its score); a finding is worded only for the
    pairs that are kept in the end (:class:`_Race`). ``passed`` is the time limit's flag:
    one execution may race in hundreds of thousands of pairs. ``racing`` analyses only
    what ``run`` does not share with the execution it analysed last.

    Most executions show a race only after others showed it with fewer preemptions: a
    rank starts with whether the run is serial around the race, then its preemptions, so
    such a run is only counted, and the rest of its rank is not worked out (an exhaustive
    search of two threads adding 4 times ranks 1,392 of the 617,760 pairs it notes).

    A reduced search passes ``reorder``, the program's ``(dependent, thread_index)``: its
    run stands for every schedule of its trace, so a race is ranked by the best of them,
    as an exhaustive search would rank it. A race its schedule shows serially ranks as
    interleaved when another schedule of the trace interleaves around it
    (:func:`_could_interleave`); the assembly then runs that schedule
    (``search._interleave_races``). Otherwise the trace kept for a race could be one
    that no schedule interleaves, while another trace, run serially with a preemption
    more, has one."""
    events = run.events
    pairs = racing.of(events, _agreed(run, racing.events), k)
    if passed[0]:  # past the time limit: this run counts for none of its pairs
        raise TimeLimitReached
    racing.calls = calls = racing.calls + 1  # the pairs shared with the last call are counted for it lazily
    if not pairs:
        return
    # the entries of the pairs this run shares with the last one racing analysed: no look-up
    noted = racing.noted
    note = noted.append
    known = len(noted)
    if len(pairs) > known:  # the pairs noted from here on are counted for this call as they come
        racing.batches.append((known, calls))
    preemptions = run.preemptions
    memo = [None, None]  # the run's schedule and its Precedence, made when a pair is ranked
    # racing.high >= every witness's preemptions in noted (_SERIAL for a serial one): where
    # this run has more, it ranks below all of them, and they are only counted
    if known and racing.high >= preemptions:
        # this run may rank above some witness: every shared pair is looked at (counted
        # lazily all the same: RacePairs.batches)
        racing.high = _SERIAL  # till this call is through
        bound = preemptions - 1
        for first in range(0, known, CHECK_EVERY):
            if passed[0]:
                raise TimeLimitReached
            for number in range(first, min(first + CHECK_EVERY, known)):
                best = noted[number][3]
                if best[1] < preemptions and not best[0]:
                    continue  # its witness has at most preemptions - 1: the bound's start
                best = _ranked(found, run, racing, pairs[number], noted[number], reorder, memo)[3]
                high = _SERIAL if best[0] else best[1]
                if high > bound:
                    bound = high
    else:
        bound = racing.high if known else -1
        racing.high = _SERIAL
    get = found.get
    for first in range(known, len(pairs), CHECK_EVERY):
        if passed[0]:
            raise TimeLimitReached
        for pair in pairs[first:first + CHECK_EVERY]:
            entry = get(pair[0])
            if entry is not None:
                entry[2] += 1
                best = entry[3]
                if best[1] < preemptions and not best[0]:
                    # a rank starts (serial around the race?, preemptions): this run ranks
                    # below the witness kept, whatever the rest of its rank
                    if best[1] > bound:
                        bound = best[1]
                    note(entry)
                    continue
            entry = _ranked(found, run, racing, pair, entry, reorder, memo)
            best = entry[3]
            high = _SERIAL if best[0] else best[1]
            if high > bound:
                bound = high
            note(entry)
    racing.high = bound


def _ranked(found: dict, run: Execution, racing: RacePairs, pair: tuple, entry: list | None,
            reorder: tuple | None, memo: list) -> list:
    """The entry of ``pair`` (made for a pair first seen, counted already otherwise), its
    witness replaced by ``run`` where ``run`` ranks better (:func:`_note_races`)."""
    events = run.events
    schedule = memo[0]
    if schedule is None:
        schedule = memo[0] = tuple([event[0] for event in events])
    score = racing.rank(pair, run.preemptions, schedule)
    key, earlier, later = pair
    if score[0] and reorder is not None and (entry is None or (False, *score[1:]) < entry[3]):
        # only where ranking as interleaved would make this run the race's witness: the
        # witness must not depend on the order the runs came in
        if memo[1] is None:
            memo[1] = Precedence(events, *reorder)
        if _could_interleave(memo[1], earlier, later, *racing.around(key)):
            score = (False, *score[1:])
    if entry is None:
        entry = found[key] = [_Race(key, earlier, later), events, 1, score]
    elif score < entry[3]:
        # merge_races ranks the races on the same lines of one trace the same way: so that
        # each is worded from the pair replay words
        entry[0], entry[1], entry[3] = _Race(key, earlier, later), events, score
    return entry


#: How many pairs :func:`_note_races` takes between two looks at the time limit's flag.
CHECK_EVERY = 4096


#: What :func:`_note_races` bounds a serial witness's preemptions by: any run may replace it.
_SERIAL = float("inf")


def _could_interleave(precedence: Precedence, earlier: int, later: int, last: int, first: int) -> bool:
    """Whether a schedule of the trace interleaves the threads around a race its own
    schedule shows serially: the first racing thread's ``last`` access to the variable
    (before ``later``) can run after the later racing step, or the second thread's
    ``first`` access (after ``earlier``) before the earlier one. The racing steps are
    dependent, so every schedule keeps them in their order."""
    return ((last > earlier and not precedence.forced(last, later))
            or (first < later and not precedence.forced(earlier, first)))


class _Race:
    """A racing pair as the search keeps it: its key and its two steps. The finding (with
    its marks) is made by :meth:`finding` only for a pair that is shown in the result."""

    __slots__ = ("key", "steps")
    kind = "race"

    def __init__(self, key: tuple, earlier: int, later: int) -> None:
        self.key = key
        self.steps = (earlier, later)

    @property
    def details(self) -> dict:
        return {"variable": self.key[1], "steps": self.steps}

    def finding(self, events: list[tuple]) -> RawFinding:
        return race_finding(self.key, self.steps[0], self.steps[1], events)


#: Distinct sets of lock-order edges kept with a witness; beyond it, cycles fall back to
#: the trace of their first edge.
MAX_EDGE_SETS = 1_000


def _note_lock_order(run: Execution, edge_witness: dict, edge_sets: dict, ordering: LockOrderEdges,
                     cap: int = MAX_EDGE_SETS) -> None:
    edges = ordering.of(run.events, _agreed(run, ordering.events))
    if not edges:
        return
    score = (run.preemptions, len(run.events))
    for edge in edges:
        best = edge_witness.get(edge)
        if best is None or better(score, run.events, best[0], best[1]):
            edge_witness[edge] = (score, run.events)
    signature = frozenset(edges)
    entry = edge_sets.get(signature)
    if entry is None:
        if len(edge_sets) < cap:
            edge_sets[signature] = [score, run.events, 1]
    else:
        entry[2] += 1
        if better(score, run.events, entry[0], entry[1]):
            entry[0], entry[1] = score, run.events
