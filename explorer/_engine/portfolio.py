"""``strategy="auto"``: dpor and stateful search take turns on one program, and the first
to finish gives the result.

Neither complete strategy wins everywhere. dpor runs one execution per Mazurkiewicz
trace, which is few where steps commute and astronomically many where every order
differs (an unlocked counter of 3 threads x 4 increments: 5e8 traces); stateful search
stores each reachable state once (that counter: 8,498 states per symmetry class), which
is many where threads hold many combinations of locks and values. Which one a scenario
needs is known only once one of them is done, so both run, in turns (as a portfolio of
solvers does), dpor first, so that a scenario dpor finishes within its first turn costs
what dpor costs; each round's turns are 1.5 times the last's. Whichever completes
first, complete or not (a time limit, Ctrl-C, a step that hangs, a nondeterministic
scenario), ends the race, and the other is dropped; but one that stops at its own
budget (``max_executions`` bounds each, ``max_states`` the stateful search) drops out,
and the other runs on (if both do, the result is dpor's).

Turns are measured in work, not seconds, so that a scenario is always decided the same
way, whatever the machine's load: an engine step (of either strategy's executions) is
one unit, a state the stateful graph walk stores :data:`STATE_STEPS` units, and a step of
it into a state visited a :data:`VISITED_PER_STEP` th of one. So the loser does at most
1.5 times the winner's work (beyond the first turn), and the race at most 2.5 times the
winner's work alone; in seconds more where a unit of one strategy takes longer than the
weights say (``benchmarks/bench_spin.py --strategies auto,dpor,stateful`` measures both).

The result is the winner's, in that strategy's terms (``result.strategy``: its counts
are traces for dpor, runs and states for stateful), and ``result.contenders`` says what
each strategy got: its executions and seconds, the winner first.
"""

from __future__ import annotations

import dataclasses
import time

from ..results import ExplorationResult
from ..settings import Settings
from .program import Program
from .search import assemble, drive_in_turns
from .tally import Tally
from .units import strategy_for
from .watchdog import Deadline

#: The contenders, in the order they take turns.
CONTENDERS = ("dpor", "stateful")
#: The work of each contender's first turn, in engine steps: a fraction of a second.
FIRST_TURN = 10_000
#: Each round's turns are this many halves of the last round's: 1.5 times as long.
GROWTH = 3
#: What the stateful graph walk's steps weigh against one engine step (a dpor execution's
#: step with its analysis and detectors): a state it stores (its key, its successors'
#: steps learned, its place in the visited set) about three; a step into a state already
#: visited a quarter. Measured on bench_spin's counters and philosophers: 37 and 3
#: microseconds, where a dpor step took 10 to 16.
STATE_STEPS = 3
VISITED_PER_STEP = 4


class _Turn:
    """A contender's work so far, and where its current turn ends."""

    __slots__ = ("before", "end", "executions", "graph", "steps", "strategy")

    def __init__(self, strategy) -> None:
        self.strategy = strategy
        self.end = 0
        self.executions = self.steps = 0  # its executions and engine steps, as its search last said
        self.graph = None  # the graph walk whose steps are counted
        self.before = 0  # the work of walks given up (seats broken, a step the walk does not cover)

    def work(self) -> int:
        """Work done: engine steps, and the graph walks' own steps weighed."""
        graph = getattr(self.strategy, "graph", None)
        if graph is not self.graph:  # the search walks again, or replays instead: its steps stay counted
            if self.graph is not None:
                self.before += _walked(self.graph)
            self.graph = graph
            if graph is not None:  # the walk stops itself between two states when the turn is over
                graph.turn_over = self.walk_over
        work = self.steps + self.before
        return work if graph is None else work + _walked(graph)

    def over(self, executions: int, steps: int) -> bool:
        """Whether the turn is over, asked by the search between two executions."""
        self.executions, self.steps = executions, steps
        return self.walk_over()

    def walk_over(self) -> bool:
        """Whether the turn is over, asked by the graph walk between two states."""
        return self.work() >= self.end

    def extend(self, work: int) -> None:
        """Give the contender ``work`` more units from now."""
        self.end = self.work() + work


def _walked(graph) -> int:
    """A graph walk's work so far, in engine steps."""
    return STATE_STEPS * len(graph.visited) + graph.pruned // VISITED_PER_STEP


class _Contender:
    """One strategy's search, paused between its turns."""

    __slots__ = ("driving", "name", "seconds", "strategy", "tally", "turn")

    def __init__(self, name: str, program: Program, options: dict, settings: Settings, deadline: Deadline,
                 started: float) -> None:
        self.name = name
        self.strategy = strategy_for(name, options)
        self.tally = Tally()
        self.turn = _Turn(self.strategy)
        self.seconds = 0.0
        self.driving = drive_in_turns(program, self.strategy, settings, self.tally, deadline, started,
                                      turn=self.turn)


def race(program: Program, options: dict, settings: Settings, deadline: Deadline) -> ExplorationResult:
    """Explore ``program`` with dpor and stateful search in turns until one is done: its result."""
    started = time.monotonic()
    progress = settings.progress
    counted = {name: (0, 0) for name in CONTENDERS}

    def settings_of(name: str) -> Settings:
        if progress is None:
            return settings

        def report(executions: int, steps: int, elapsed: float) -> None:  # both searches' runs, as one's
            counted[name] = (executions, steps)
            progress(sum(e for e, _ in counted.values()), sum(s for _, s in counted.values()), elapsed)

        return dataclasses.replace(settings, progress=report)

    contenders = [_Contender(name, program, options, settings_of(name), deadline, started) for name in CONTENDERS]
    # Each binds its strategy (stateful's walk starts a generator of every thread) when its
    # first turn comes: the program's first run is dpor's, as with dpor alone, the run later
    # runs are checked against (a thread that raises from its second run on is nondeterminism).
    bound: set = set()
    running = list(contenders)
    out: dict = {}  # a contender that stopped at its own budget (max_executions, max_states) -> its about
    work = FIRST_TURN
    try:
        while running:
            for contender in list(running):
                if contender.name not in bound:
                    next(contender.driving)  # binds, and waits for its turn
                    bound.add(contender.name)
                contender.turn.extend(work)
                began = time.monotonic()
                try:
                    next(contender.driving)
                except StopIteration as done:
                    contender.seconds += time.monotonic() - began
                    about = done.value
                    if contender.tally.stop_reason == "max_executions" or about["covered"] is not None:
                        out[contender] = about  # it drops out; the others may still finish
                        running.remove(contender)
                        continue
                    # done, or stopped for a reason that stops every search (a time limit,
                    # Ctrl-C, a step that hangs, a scenario that is not deterministic)
                    return _result(program, contender, contenders, about, settings, deadline, started)
                contender.seconds += time.monotonic() - began
            work = work * GROWTH // 2
        first = contenders[0]  # each stopped at its budget: the default strategy's result
        return _result(program, first, contenders, out[first], settings, deadline, started)
    finally:
        for contender in contenders:
            contender.driving.close()


def _result(program: Program, winner: _Contender, contenders: list, about: dict, settings: Settings,
            deadline: Deadline, started: float) -> ExplorationResult:
    for other in contenders:  # the others stop here, before the winner's result is assembled
        if other is not winner:
            other.driving.close()
    result = assemble(program, winner.name, settings, winner.tally, about, deadline, time.monotonic() - started)
    ranked = [winner] + [other for other in contenders if other is not winner]
    return dataclasses.replace(result, contenders=tuple(
        (c.name, c.tally.executions if c is winner else c.turn.executions, c.seconds) for c in ranked))
