"""Work units of a parallel exploration: what a worker runs, and what it sends back.

A unit is a start of the strategy (what its ``split()`` handed back: a prefix of
choices to force, and the branches below it still to explore; for a sampling
strategy, a unit number), a slice of time, and the budgets. The worker runs the
search from that start with the same loop as a serial search (:func:`.search.drive`),
into a :class:`.tally.Tally` of its own, until the strategy is done or the slice is
over; then it hands back what is left as new starts. The coordinator merges the
tallies in exploration order (:mod:`explorer._engine.coordinator`).

A worker compiles the job's scenario once and keeps it for the job's next units, and
first runs the strategy's first execution, as the serial search did: a program learns
the threads, variables and objects a run starts as it meets them, and numbers them in
that order; a unit that meets one the first execution did not says so (``learned``),
and the coordinator runs the search serially instead, whose numbering is the one
users see.
"""

from __future__ import annotations

import io
import pickle
import sys
import time
import types
from collections import ChainMap
from contextlib import ExitStack
from dataclasses import dataclass, field

from .._text import PLAIN
from ..settings import Settings
from ..strategies import PCT, Bounded, Exhaustive, RandomWalk, Stateful
from ..strategies.dpor_split import SplitDPOR
from .guards import no_process_exit
from .hunger import Hunger
from .program import Program
from .seats import SeatsBroken
from .shared_visited import SharedVisited
from .tally import Tally
from .watchdog import Deadline, Watchdog


@dataclass(frozen=True, slots=True)
class Job:
    """What every unit of one exploration shares: the scenario (pickled once, by
    cloudpickle, so that a scenario defined in a notebook cell reaches the workers too),
    the strategy and its options, and the per-step settings."""

    id: str
    scenario: bytes | tuple[str, str]  # pickled, or (file, name) of plain code in a scenario file
    strategy: str
    options: dict
    max_steps: int
    step_timeout: float | None
    shared: object = None  # stateful: the workers' table of visited states (its Handle)
    hunger: str | None = None  # the file of the flag that says a worker is idle (hunger.py)
    first: tuple = ()  # the coordinator's first execution, as signature() gives it
    sites: dict | None = None  # stateful, where the coordinator let epochs go: the sites it learned (race_sites)
    names: tuple = ()  # the threads, variables and objects the coordinator met, in its order (names())


@dataclass(slots=True)
class Unit:
    """One piece of work: the strategy's ``start``, run for at most ``seconds``."""

    key: tuple  # its place in exploration order: units sort as their executions come
    start: object  # the strategy's start, or pickled (units.dumps), as a worker receives it
    seconds: float
    max_executions: int | None = None
    time_left: float | None = None  # seconds to the exploration's time limit when it was sent
    sent_at: float | None = None  # when it was sent (time.time(): a worker on another machine reads it too)
    bars: dict | None = None  # racing pairs shown interleaved before it: key -> fewest preemptions (coordinator.Bars)


@dataclass(slots=True)
class Piece:
    """What a unit did: its tally (at ``key``), the starts of what it left, pickled (each
    follows at ``key[:-1] + (n,)`` for n = 1, 2, ...), and figures for the coordinator; for dpor,
    what the coordinator must hear of (``escaped``: see :mod:`explorer.strategies.dpor_split`).

    A worker's tally travels pickled on its own (``tally`` is bytes until :meth:`read`), with
    the figures the coordinator needs at once (``executions``, ``steps``, ``stop_reason``):
    the coordinator hands out the starts first, and unpickles the tally, which may hold
    thousands of witnesses, while the workers run them."""

    key: tuple
    tally: Tally | bytes
    starts: list
    counters: dict = field(default_factory=dict)
    learned: bool = False
    seconds: float = 0.0
    peak_mib: float = 0.0  # the worker process's peak resident memory so far
    escaped: list = field(default_factory=list)  # what a dpor unit tells the coordinator
    diverged: str | None = None  # why the worker runs the scenario otherwise than the coordinator
    executions: int = 0
    steps: int = 0
    stop_reason: str | None = None

    @classmethod
    def of(cls, key: tuple, tally: Tally, starts: list, counters: dict, **rest) -> Piece:
        return cls(key, tally, starts, counters, executions=tally.executions, steps=tally.steps,
                   stop_reason=tally.stop_reason, **rest)

    def read(self) -> Tally:
        """The tally, unpickled the first time it is asked for."""
        if isinstance(self.tally, bytes):
            self.tally = pickle.loads(self.tally)
        return self.tally


def strategy_for(name: str, options: dict, start: object = None, *, shared=None, keep: dict | None = None,
                 parallel: bool = False, sites: dict | None = None):
    """A fresh strategy called ``name`` (``start``: a work unit's, from ``split()``).
    Stateful only: ``parallel``, for a parallel search (keys every process computes
    alike); ``shared``, the workers' table of visited states; ``keep``, what a worker
    keeps for the job's next units; ``sites``, the job's (:class:`Job`)."""
    if name == "exhaustive":
        return Exhaustive(start)
    if name == "bounded":
        return Bounded(options["preemptions"], start)
    if name == "dpor":
        return SplitDPOR(start)
    if name == "stateful":
        return Stateful(symmetry=options["symmetry"], exact=options["exact"], max_states=options["max_states"],
                        max_steps=options["max_steps"], stable=parallel, shared=shared, start=start, keep=keep,
                        sites=sites)
    if name == "random":
        return RandomWalk(options["seed"]) if start is None else RandomWalk(options["seed"], *start)
    if name == "pct":
        return (PCT(options["seed"], options["depth"]) if start is None
                else PCT(options["seed"], options["depth"], *start))
    raise AssertionError(f"[explorer internal bug] no parallel form of strategy {name!r}")


def knowledge(program: Program) -> tuple[int, int, int]:
    """How much a program has learned of threads, variables and objects made as it ran."""
    return len(program.thread_names), len(program.var_names), len(program.declarations)


class _Compiled:
    """A job's scenario, compiled in this worker, with its first execution run."""

    def __init__(self, job: Job) -> None:
        from .search import drive

        scenario = _scenario(job.scenario)
        self.program = Program(scenario, fair=job.options.get("fair", False))
        self.stack = ExitStack()
        self.stack.enter_context(no_process_exit())
        self.stack.enter_context(self.program.session())
        settings = Settings(max_executions=1, max_steps=job.max_steps, step_timeout=job.step_timeout)
        deadline = Deadline(None)
        first = Tally()
        with Watchdog(settings.step_limit, deadline):
            drive(self.program, strategy_for(job.strategy, job.options), settings, first, deadline,
                  time.monotonic())
        self.diverged = None
        mine = signature(first.first)
        if job.first and mine != job.first:
            at = next((n for n, (a, b) in enumerate(zip(mine, job.first)) if a != b), min(len(mine), len(job.first)))
            self.diverged = (
                f"the scenario's first execution ran otherwise in a worker process than here (from step {at + 1} on: "
                f"{_shown(job.first, at)} here, {_shown(mine, at)} there): code that depends on the process, such as "
                f"the order of a set of strings, which each process hashes with its own seed (set PYTHONHASHSEED to "
                f"explore such a scenario on workers)")
        elif job.names:
            learn(self.program, job.names)
        self.known = knowledge(self.program)
        self.shared = None if job.shared is None else SharedVisited.attach(job.shared)
        self.hunger = None if job.hunger is None else Hunger.attach(job.hunger)
        self.stack.callback(self._let_go)
        self.keep: dict = {}  # what a strategy keeps from one unit to the next (stateful: its walk)

    def _let_go(self) -> None:
        if self.shared is not None:
            self.shared.close()
        if self.hunger is not None:
            self.hunger.close()


_COMPILED: dict[str, _Compiled] = {}


def let_go() -> None:
    """Undo what this process compiled for its jobs: their patches and guards (a process
    that runs units in its own process, not a worker's, calls it when done)."""
    for old in _COMPILED.values():
        old.stack.close()
    _COMPILED.clear()


def _scenario(shipped: bytes | tuple[str, str]):
    if isinstance(shipped, bytes):
        return pickle.loads(shipped)
    from ..loading import load_scenarios

    file, name = shipped
    found, failures = load_scenarios([file])
    for _file, attribute, scenario in found:
        if attribute == name:
            return scenario
    raise AssertionError(f"[explorer internal bug] scenario {name} is not in {file} in a worker: {failures}")


def dumps(value: object) -> bytes:
    """``value`` pickled as cloudpickle does (functions made in ``__main__``, a notebook
    cell or another function by value: a step's lambda, a scenario's thread bodies),
    with their code's file name kept (cloudpickle blanks it): the lines a finding names
    are the same wherever it was found."""
    import cloudpickle

    from ..loading import LOADED

    for name, module in list(sys.modules.items()):
        if name.startswith(LOADED + "."):  # scenario files the loader ran: not importable elsewhere
            cloudpickle.register_pickle_by_value(module)

    class Pickler(cloudpickle.Pickler):
        dispatch_table = ChainMap({types.CodeType: _code_reduce}, cloudpickle.Pickler.dispatch_table)

    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _code_reduce(code: types.CodeType):
    from cloudpickle.cloudpickle import _code_reduce as reduce

    make, args = reduce(code)
    return make, tuple(code.co_filename if arg == "<dynamic-code>" else arg for arg in args)


def _time_left(unit: Unit) -> float:
    """Seconds from now to the exploration's time limit: what was left when the unit was
    sent, less the time it waited in the pool's queue (a unit queued behind another would
    otherwise run on past the limit by as long), at most what was left then."""
    left = unit.time_left
    if unit.sent_at is not None:
        left = min(left, max(left - (time.time() - unit.sent_at), 0.001))
    return left


def run_unit(job: Job, unit: Unit) -> bytes:
    """Run one unit in this worker (the backends' task); its :class:`Piece`, pickled."""
    from .search import drive

    compiled = _COMPILED.get(job.id)
    if compiled is None:
        let_go()  # one job at a time: the last one's patches come off
        compiled = _COMPILED[job.id] = _Compiled(job)
    if compiled.diverged is not None:
        return dumps(Piece(unit.key + (0,), dumps(Tally()), [], diverged=compiled.diverged))
    program = compiled.program
    started = time.monotonic()
    strategy = strategy_for(job.strategy, job.options, pickle.loads(unit.start), shared=compiled.shared,
                            keep=compiled.keep, parallel=True, sites=job.sites)
    settings = Settings(max_executions=unit.max_executions, max_steps=job.max_steps,
                        step_timeout=job.step_timeout)
    deadline = Deadline(None if unit.time_left is None else started + _time_left(unit))
    tally = Tally(edge_cap=1 << 62)  # the coordinator caps the merged edge sets, in order
    if unit.bars:
        tally.bar_races(unit.bars)
    with Watchdog(settings.step_limit, deadline):
        try:
            about = drive(program, strategy, settings, tally, deadline, started, slice_end=started + unit.seconds,
                          hungry=None if compiled.hunger is None else compiled.hunger.memory, figures=False)
        except SeatsBroken:  # the coordinator explores serially: the walk kept is no good to a next unit
            compiled.keep.clear()
            raise
    # each start pickled here, once: the coordinator only passes it on to the unit that runs it
    starts = [dumps(start) for start in strategy.split()] if about["sliced"] else []
    counters = strategy.counters() if hasattr(strategy, "counters") else {}
    tally.unbar_races()
    tally.compact()
    piece = Piece.of(unit.key + (0,), tally, starts, counters, learned=knowledge(program) != compiled.known,
                     seconds=time.monotonic() - started, peak_mib=peak_mib(),
                     escaped=getattr(strategy, "outbox", []))
    piece.tally = dumps(tally)
    return dumps(piece)


def names(program: Program) -> tuple:
    """The threads, variables and objects ``program`` knows, each in the order it met them:
    what a worker learns (:func:`learn`) after its first execution, which met the first
    of them in the same order, so that it numbers every one as the coordinator does."""
    return program.thread_names, program.var_names, tuple(program.declarations.items())


def learn(program: Program, known: tuple) -> None:
    """Make ``program`` know what :func:`names` gave, in that order."""
    threads, variables, objects = known
    for thread in threads:
        program.register_thread(thread)
    for variable in variables:
        program.register_variable(variable)
    for name, declaration in objects:
        program.register_object(name, declaration)


def signature(events: list[tuple]) -> tuple:
    """What an execution did, as two processes can compare it: each step's thread, kind
    and name (a variable's, a lock's), and each plain value a step was sent."""
    return tuple((thread, step[0], step[1] if len(step) > 1 and step[1].__class__ is str else None,
                  value if value.__class__ in PLAIN else None)
                 for thread, step, value, _enabled in events)


def _shown(steps: tuple, at: int) -> str:
    if at >= len(steps):
        return "the end"
    thread, kind, name, value = steps[at]
    return f"thread {thread} {kind} {name!r}" + ("" if value is None else f" -> {value!r}")


def peak_mib() -> float:
    """This process's peak resident memory, MiB: its own program's high-water mark where
    Linux tells it (``VmHWM``), less the shared memory it maps now (``RssShmem``: a
    stateful search's table of visited states, one for every worker, whose pages the
    walks touch all over, 64 MiB in each worker's resident count though it is stored once;
    it only grows, so what is left is the worker's own memory at its peak). ``ru_maxrss``
    also counts the process it was started from before ``exec`` (a benchmark's driver
    holding large results), so it is the fallback."""
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if line.startswith(("VmHWM:", "RssShmem:")))
        if "VmHWM" in fields:
            return (int(fields["VmHWM"].split()[0]) - int(fields.get("RssShmem", "0 kB").split()[0])) / 1024
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:  # not on every platform
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
