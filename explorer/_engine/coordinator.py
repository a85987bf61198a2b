"""The coordinator of a parallel exploration: hands out work units, merges what comes back.

It runs the strategy itself first, for :data:`FIRST_SLICE` seconds: a small scenario
is done by then, serially, and never starts a worker. Otherwise the strategy hands
back what it has left (``split()``) as starts of units, which the backend runs; a unit
that runs past its slice hands back what it has left in turn, so every worker stays
busy until the end. Sampling strategies (random, pct) need no splitting: their
executions come in numbered runs of :data:`.random_walk.UNIT`, each from its own seed,
and a unit is as many consecutive runs as take about :data:`SAMPLE_SECONDS`.

Each unit has a key, its place in exploration order, and its executions come in that
order; so the tallies, merged by key (:meth:`.tally.Tally.merge`), are those of one
serial search, and so is the result built from them (:func:`.search.assemble`). A
``max_executions`` budget keeps the first executions in that order: the unit that
crosses it is run again, in the coordinator, up to it.
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait

from ..errors import InvalidArgument
from ..loading import LOADED
from ..settings import Settings
from ..strategies import SAMPLING
from ..strategies.random_walk import UNIT
from .hunger import Hunger
from .model_graph import ForeignRelease
from .program import Program
from .race_sites import SitesGrew
from .search import assemble, drive, measured_figures
from .seats import SeatsBroken
from .shared_visited import SharedVisited
from .tally import Tally, race_bars
from .units import Job, Piece, Unit, dumps, knowledge, names, run_unit, signature, strategy_for
from .watchdog import Deadline, ctrl_c_flag, ctrl_c_held

#: Seconds the coordinator explores alone before it hands out units.
FIRST_SLICE = 0.25
#: Seconds a unit runs before it hands back what it has left (the issue's 0.2 to 2 s).
SLICE = 2.0
#: Units kept queued per worker, so that none waits for the coordinator between two.
QUEUED = 2
#: Seconds a sampling search's work unit runs (random, pct): several units of executions.
SAMPLE_SECONDS = 0.4
#: Towards a sampling budget's end, a work unit takes at most 1 / (TAIL_SHARE x workers)
#: of what is left, so that the workers finish together.
TAIL_SHARE = 3


#: What stops a search at one execution, which a serial search meets in its order: a
#: parallel one stops there too, once every unit before it is back (the time limit and
#: Ctrl-C stop everything at once). A worker never sees Ctrl-C (it ignores SIGINT; the
#: coordinator stops it): a unit "interrupted" met a KeyboardInterrupt that a thread's own
#: code raised, which stops a serial search at that execution, in its order.
IN_ORDER = ("nondeterminism", "step_timeout", "interrupted")

#: Why a stateful search whose seat moves failed their check in a unit runs serially.
SEATS_BROKEN = ("a thread body does more with a lock's name than name it (a seat move failed its check), and "
                "the workers had merged states by those moves; serially the search walks again without them")


#: Why one whose thread came to release a lock it does not hold in a unit runs serially.
FOREIGN_RELEASE = ("a thread releases a lock it does not hold, and the workers had walked with each release "
                   "taken first (sound only without such releases); serially the search walks again without that")


#: Why one whose thread came to access a variable at a line not seen before runs serially.
SITES_GREW = ("a thread accesses a variable at a line the walk had not seen, after it had let go of races "
              "whose every pair of lines was seen; serially the search walks again knowing that line")


def _broken(broken: SeatsBroken) -> str:
    if isinstance(broken, SitesGrew):
        return SITES_GREW
    return FOREIGN_RELEASE if isinstance(broken, ForeignRelease) else SEATS_BROKEN


class Fallback(Exception):  # noqa: N818 - a signal: run serially instead
    """The exploration cannot be split among workers and give the serial result."""


def parallel_search(program: Program, name: str, options: dict, settings: Settings, deadline: Deadline,
                    make_backend):
    """Explore ``program`` with strategy ``name`` on the workers ``make_backend()`` gives;
    the result is the serial search's. Raises :class:`Fallback` when it cannot be."""
    started = time.monotonic()
    slice_seconds, first_slice = SLICE, FIRST_SLICE
    # stateful: keys every process computes alike, so that the workers can share one table of
    # visited states; not under an executions budget, whose first executions in serial order
    # a shared table cannot keep (it explores serially then)
    strategy = strategy_for(name, options, parallel=settings.max_executions is None)
    table = None
    tally = Tally()
    pieces: dict[tuple, Piece] = {}
    starts: dict[tuple, object] = {}  # unit key -> its start, to run a unit again up to the budget
    queue: list[Unit] = []
    drawn = iter(())  # a sampling search's units, made as they are handed out
    sampled = [0.0, 0]  # a sampling search's seconds and executions so far: what sizes its next units
    bars = Bars({})
    if name in SAMPLING:
        about = {"covered": strategy.incomplete_reason, "reduced": False, "groups": (), "figures": {}}
        # the first unit, here: the threads, variables and objects its executions meet (a
        # pool's threads, as many as its draws start) are numbered as a serial search
        # numbers them, and each worker numbers them alike (Job.names)
        budget = settings.max_executions
        first_start = (0, UNIT if budget is None else min(UNIT, budget))
        drive(program, strategy_for(name, options, first_start), _per_step(settings), tally, deadline, started)
        first = tally.first
        first_seconds = time.monotonic() - started
        pieces[(0, 0)] = Piece.of((0, 0), tally, [], {}, seconds=first_seconds)
        sampled[:] = first_seconds, tally.executions
        if (budget is not None and budget <= UNIT) or tally.stop_reason is not None:  # all of it, or its end
            if tally.stop_reason is None and budget is not None:
                tally.stop_reason = "max_executions"  # a sample always has more to draw
            return assemble(program, name, settings, tally, about, deadline, time.monotonic() - started), 1, (), 0.0, 0.0
    else:
        splits = callable(getattr(strategy, "split", None))  # one that cannot split runs here, to its end
        try:
            # stateful's figures: measured once the search is over, here or from the units'
            about = drive(program, strategy, settings, tally, deadline, started,
                          slice_end=started + first_slice if splits else None, figures=False)
        except SeatsBroken as broken:
            raise Fallback(_broken(broken)) from None
        if not about.pop("sliced"):
            about["figures"] = measured_figures(strategy, about["groups"], program.thread_names, about["seats"], tally)
            return assemble(program, name, settings, tally, about, deadline, time.monotonic() - started), 1, (), 0.0, 0.0
        first = tally.first
    stop_reason = None
    hunger = known = None
    try:
        if ctrl_c_flag()[0]:  # pressed in a sample's first execution, which drive() stopped there
            raise KeyboardInterrupt
        if name not in SAMPLING:
            pieces[(0,)] = Piece.of((0,), tally, [], _counters(strategy), seconds=time.monotonic() - started)
            queue = [Unit((n,), start, slice_seconds) for n, start in enumerate(strategy.split(), 1)]
        shipped = _shipped(program)
        with ctrl_c_held():  # each file made and known, or not made: none is left behind
            if name == "stateful":  # with room for the lost updates the walk can learn
                graph = getattr(strategy, "graph", None)
                table = SharedVisited.create(facts=0 if graph is None else graph.fact_count)
            hunger = Hunger.create()
        if table is not None:  # the states visited here go first into the workers' table
            strategy.graph.share(table)
        walk = getattr(strategy, "graph", None)  # stateful's: where it let epochs go, so do the workers
        sites = walk.race_sites if walk is not None else None
        job = Job(uuid.uuid4().hex, shipped, name, options, settings.max_steps, settings.step_timeout,
                  None if table is None else table.handle, hunger.path, signature(first),
                  {place: frozenset(known) for place, known in sites.sites.items()}
                  if sites is not None and sites.strict else None, names(program))
        bars = Bars(race_bars(tally))  # the first slice's: its key comes before every unit's
        known = knowledge(program)
        backend = make_backend()
        if name in SAMPLING:
            drawn = _sampling_units(settings.max_executions, sampled, backend.workers)
    except KeyboardInterrupt:
        # Ctrl-C before the workers start, or while they do (a cluster connects): what was
        # explored here is kept, and the search says it was interrupted
        backend, stop_reason = _NoWorkers(), "interrupted"
        if name not in SAMPLING and (0,) not in pieces:  # pressed while its figures were worked out
            pieces[(0,)] = Piece.of((0,), tally, [], {}, seconds=time.monotonic() - started)
    except BaseException:
        _let_go(hunger, table)
        raise
    stop_at = None  # the key of the first piece in exploration order that stopped as a serial search stops
    unit_seconds = []
    coordinating = 0.0  # seconds the coordinator spent on what came back: the scaling model's figure
    peak = 0.0  # the largest peak resident memory a worker reported, MiB
    running: dict = {}  # future -> unit
    unread: list[Piece] = []  # pieces back whose tallies are still pickled
    try:
        while True:
            queue += itertools.islice(drawn, max(QUEUED * backend.workers + 1 - len(queue), 0))
            if not (queue or running) or stop_reason is not None:
                break
            while queue and len(running) < QUEUED * backend.workers:
                unit = queue.pop(0)
                if name not in SAMPLING:  # a sampling unit's start says how many executions it runs
                    unit.max_executions = settings.max_executions
                unit.time_left = None if deadline.at is None else max(deadline.at - time.monotonic(), 0.001)
                # a start may hold steps, whose functions (a lambda) only cloudpickle takes; a
                # worker's starts come pickled already, and go on as they came
                start = starts[unit.key] = unit.start if isinstance(unit.start, bytes) else dumps(unit.start)
                shipped = Unit(unit.key, start, unit.seconds, unit.max_executions, unit.time_left,
                               None if unit.time_left is None else time.time(), bars.known)
                running[backend.submit(run_unit, job, shipped)] = unit
            hunger.set(not queue and len(running) < backend.workers)  # a worker is idle: split a unit
            # the tallies that came back last, read now that their starts are out (Piece)
            handling = time.perf_counter()
            while unread:
                bars.back(_read(unread.pop()))
            bars.settle([unit.key for unit in queue] + [unit.key for unit in running.values()])
            coordinating += time.perf_counter() - handling
            timeout = None if deadline.at is None else max(deadline.at - time.monotonic(), 0) + 1.0
            done, _ = wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:  # past the time limit and a second more: what has not come back is lost
                stop_reason = "time_limit"
                break
            handling = time.perf_counter()
            for future in done:
                unit = running.pop(future)
                try:
                    piece = pickle.loads(future.result())
                except SeatsBroken as broken:
                    raise Fallback(_broken(broken)) from None
                except Exception as error:  # noqa: BLE001 - a worker died or a piece would not pickle
                    if isinstance(error, (TypeError, pickle.PicklingError)) and "pickle" in str(error):
                        raise Fallback(f"what a unit found could not be sent back from its worker ({error}): a "
                                       f"thread returns, raises or hands on a value that cannot be pickled") \
                            from error
                    raise Fallback(f"a worker failed ({type(error).__name__}: {error})") from error
                if piece.diverged is not None:
                    raise Fallback(piece.diverged)
                if piece.learned:
                    raise Fallback("a unit met threads, variables or objects the first execution did not")
                pieces[piece.key] = piece
                unread.append(piece)
                sampled[0] += piece.seconds
                sampled[1] += piece.executions
                unit_seconds.append(piece.seconds)
                peak = max(peak, piece.peak_mib)
                later = piece.starts + (strategy.escaped(piece.escaped) if piece.escaped else [])
                queue += [Unit(unit.key + (n,), start, slice_seconds) for n, start in enumerate(later, 1)]
                if piece.stop_reason in IN_ORDER:
                    if stop_at is None or piece.key < stop_at:
                        stop_at = piece.key
                elif piece.stop_reason not in (None, "max_executions"):
                    stop_reason = piece.stop_reason  # the time limit: everything stops
            queue.sort(key=lambda unit: unit.key)
            if stop_at is not None:
                # a serial search stops at the first such execution in its order: what comes
                # after it is not run, what comes before it still is (and may stop earlier)
                queue = [unit for unit in queue if unit.key < stop_at]
                drawn = iter(())  # units not made yet come after every one out
                if not queue and all(unit.key > stop_at for unit in running.values()):
                    break
            coordinating += time.perf_counter() - handling
            if stop_reason is not None:
                break
            if settings.max_executions is not None and _budget_reached(pieces, queue, running, settings):
                break
            if settings.progress is not None:
                executions = sum(piece.executions for piece in pieces.values())
                settings.progress(executions, sum(piece.steps for piece in pieces.values()),
                                  time.monotonic() - started)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    finally:  # units still out are given up at once; otherwise the workers are let go in order
        cancel = bool(running) or stop_reason is not None
        # whole: a second Ctrl-C while stopping (a CI timeout signals the process and its
        # group) would leave the workers and the shared files behind, and lose the result
        with ctrl_c_held(again=stop_reason != "interrupted"):
            if cancel and hunger is not None:
                hunger.set(True)  # units under way hand back what they have left: their workers can stop
            backend.close(cancel=cancel)
            _let_go(hunger, table)
    if known is not None and knowledge(program) != known:
        raise Fallback("the coordinator met threads, variables or objects after the units were sent")
    handling = time.perf_counter()
    merged, counted = _merged(program, name, options, settings, deadline, pieces, starts, queue, running,
                              stop_reason)
    coordinating += time.perf_counter() - handling
    whole = strategy_for(name, options)  # the figures of the executions merged, as one strategy's
    for counters in counted:
        if counters:
            whole.absorb(counters)
    about["covered"] = getattr(whole, "incomplete_reason", None)
    # stateful: the states every unit stored
    about["figures"] = measured_figures(whole, about["groups"], program.thread_names, about.get("seats", ()), merged)
    result = assemble(program, name, settings, merged, about, deadline, time.monotonic() - started)
    return result, backend.workers, tuple(unit_seconds), coordinating, peak


def _let_go(hunger: Hunger | None, table: SharedVisited | None) -> None:
    """Close the hunger flag and the shared visited table, those that were made."""
    if hunger is not None:
        hunger.close()
    if table is not None:
        table.close()


class _NoWorkers:
    """The backend of a search stopped before its workers started: the coordinator alone."""

    workers = 1

    def close(self, *, cancel: bool = False) -> None:
        pass


def _sampling_units(max_executions: int | None, sampled: list, workers: int) -> Iterator[Unit]:
    """The work units of a sampling search after its first unit (which the coordinator
    ran), made one by one as they are handed out: as many as the budget needs, or, with
    only a time limit, as many as it lets run. Each runs whole units
    (:data:`.random_walk.UNIT` executions from a seed of their own) from its first on, as
    many as take about :data:`SAMPLE_SECONDS` at the pace of the units back so far
    (``sampled``: their seconds and executions, which the coordinator adds to), fewer
    towards the budget's end, so that the last ones share out evenly among the ``workers``."""
    units = None if max_executions is None else -(-max_executions // UNIT)
    n = 1
    while units is None or n < units:
        seconds, executions = sampled
        most = max(1, int(SAMPLE_SECONDS * executions / (max(seconds, 1e-4) * UNIT)))
        many = most if units is None else max(1, min(most, (units - n) // (TAIL_SHARE * workers)))
        executions = many * UNIT if max_executions is None else min(many * UNIT, max_executions - n * UNIT)
        yield Unit((n,), (n, executions), seconds=1e9)
        n += many


def _per_step(settings: Settings) -> Settings:
    """``settings`` without a budget or progress: a sampling unit's start says how many
    executions it runs."""
    return Settings(max_steps=settings.max_steps, step_timeout=settings.step_timeout)


def _counters(strategy) -> dict:
    """What a strategy's run adds to the whole search's figures (bounded: branches beyond the
    bound), or nothing."""
    return strategy.counters() if hasattr(strategy, "counters") else {}


class Bars:
    """The racing pairs shown interleaved by the pieces that come, in exploration order,
    before every unit still out, with the fewest preemptions of such a run
    (:meth:`.tally.Tally.bar_races`): what a unit handed out now starts from. A piece's
    tally counts only once nothing left to run sorts before it, so that whenever a unit's
    tally is merged (a budget or a stop merges only the first pieces in order), the
    witnesses its bars stand for were merged before it."""

    def __init__(self, first: dict) -> None:
        self.known = first  # replaced, never changed: units handed out keep the one they got
        self.waiting: list = []  # heap of (key, piece) of pieces read, not yet counted

    def back(self, piece: Piece) -> None:
        heapq.heappush(self.waiting, (piece.key, id(piece), piece))

    def settle(self, out: list[tuple]) -> None:
        """Count the pieces that sort before every key in ``out`` (the units queued or running)."""
        frontier = min(out, default=None)
        waiting = self.waiting
        if not waiting or (frontier is not None and waiting[0][0] >= frontier):
            return
        known = dict(self.known)
        while waiting and (frontier is None or waiting[0][0] < frontier):
            for key, preemptions in race_bars(heapq.heappop(waiting)[2].tally).items():
                if preemptions < known.get(key, preemptions + 1):
                    known[key] = preemptions
        self.known = known


def _read(piece: Piece) -> Piece:
    """Unpickle a piece's tally, which a worker sent on its own (:class:`.units.Piece`)."""
    try:
        piece.read()
        return piece
    except Exception as error:  # noqa: BLE001 - as for the piece itself, in the loop
        raise Fallback(f"a worker's tally would not unpickle ({type(error).__name__}: {error})") from error


def _budget_reached(pieces: dict, queue: list, running: dict, settings: Settings) -> bool:
    """Whether the executions first in exploration order, all back, reach ``max_executions``."""
    keys = sorted(list(pieces) + [unit.key for unit in queue] + [unit.key for unit in running.values()])
    total = 0
    for key in keys:
        piece = pieces.get(key)
        if piece is None:
            return False  # an earlier unit is still out: its executions come first
        total += piece.executions
        if total >= settings.max_executions:
            return True
    return False


def _merged(program: Program, name: str, options: dict, settings: Settings, deadline: Deadline, pieces: dict,
            starts: dict, queue: list, running: dict, stop_reason: str | None) -> tuple[Tally, list[dict]]:
    """The pieces' tallies merged in exploration order, cut at ``max_executions`` as a
    serial search is cut, and the strategy figures of the pieces merged."""
    merged = Tally()
    counted = []
    budget = settings.max_executions
    keys = sorted(pieces)
    later = bool(queue or running)
    for number, key in enumerate(keys):
        piece = pieces[key]
        _read(piece)
        if budget is not None and merged.executions + piece.tally.executions >= budget and name not in SAMPLING:
            more = (merged.executions + piece.tally.executions > budget or number + 1 < len(keys) or later
                    or piece.starts or piece.tally.stop_reason == "max_executions")
            tally, counters = piece.tally, piece.counters
            if merged.executions + tally.executions > budget:  # run it again, up to the budget
                tally, counters = _again(program, name, options, settings, deadline,
                                         pickle.loads(starts[key[:-1]]) if key != (0,) else None,
                                         budget - merged.executions)
            merged.merge(tally)
            counted.append(counters)
            if more:
                merged.stop_reason = merged.stop_reason or "max_executions"
            return merged, counted
        merged.merge(piece.tally)
        counted.append(piece.counters)
        if piece.tally.stop_reason in IN_ORDER:
            break  # the search stops there: the pieces after it (run meanwhile) are not its
    if stop_reason is not None:
        merged.stop_reason = stop_reason
    elif name in SAMPLING and budget is not None:
        merged.stop_reason = "max_executions"  # a sample always has more to draw
    return merged, counted


def _again(program: Program, name: str, options: dict, settings: Settings, deadline: Deadline, start: object,
           executions: int) -> tuple[Tally, dict]:
    """A unit run again here, for its first ``executions`` executions only."""
    tally = Tally()
    budget = Settings(max_executions=executions, max_steps=settings.max_steps, step_timeout=settings.step_timeout)
    strategy = strategy_for(name, options, start)
    drive(program, strategy, budget, tally, deadline, time.monotonic())
    return tally, _counters(strategy)


def _shipped(program: Program) -> bytes | tuple[str, str]:
    """The scenario as the workers get it: pickled (functions defined in ``__main__``, a
    notebook cell or a scenario file by value, with cloudpickle); plain code from a
    scenario file as the file and the scenario's name in it, for each worker to run the
    file itself: plain code works on its modules' own globals, which a copy would not be."""
    scenario = program.scenario
    plain = getattr(scenario, "plain", None)
    for module in () if plain is None else plain.modules:
        if module.__name__.startswith(LOADED + "."):
            attribute = next((name for name, value in vars(module).items() if value is scenario), None)
            if attribute is None:
                raise Fallback(f"plain code from {module.__file__} whose scenario is not one of the file's names")
            return module.__file__, attribute
        if module.__name__ == "__main__" or module.__name__ not in sys.modules:
            raise Fallback(f"plain code in module {module.__name__!r}, which worker processes cannot import "
                           f"(put it in a module of its own, or a scenario file, to explore it in parallel)")
    try:
        return dumps(scenario)
    except Exception as error:  # noqa: BLE001 - whatever refuses to pickle, the user must hear which
        raise InvalidArgument(
            f"scenario {scenario.name!r} cannot be sent to worker processes: {type(error).__name__}: "
            f"{error}. Everything a scenario holds (its thread functions, their closures and defaults, its "
            f"initial values) must pickle; run it with workers=1, or make what fails a module-level "
            f"function or value") from error
