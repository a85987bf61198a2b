"""bench_peers.py's frontrun driver: the scenarios written the way frontrun's README shows.

Run by bench_peers.py as `benchmarks/.venvs/frontrun/bin/frontrun python frontrun_driver.py`:
frontrun.explore() refuses to run outside its CLI. Shared state is an object whose
attributes frontrun's bytecode tracing sees; the workers run on real threads that
frontrun's scheduler lets through one at a time. Executions are counted as calls of
`setup`, which frontrun makes once per execution, counterexample replays included.
On the counters 2x3 and 2x4 (the steady-state rows) the every-schedule modes run
with a budget: DPOR's own `max_executions`, and, as `explore_marker_interleavings`
has none, a `setup` that stops the search by raising once MARKER_BUDGET executions
have run (the bug then counts as found if the invariant failed before).

The plain-code rows (PLAIN) run frontrun on the unmodified classes of plain_code.py, as
its README runs its Counter: `setup` the class, the workers its methods, the invariant
the final value; DPOR with its defaults and over every schedule. With `--plain-only`
(bench_peers.py --plain) the driver runs those rows alone.
"""

import sys
import threading
from pathlib import Path

import frontrun
from frontrun.trace_markers import explore_marker_interleavings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import about, emit, outcome, row  # noqa: E402
from plain_code import Counter, FakeDatabase, updater  # noqa: E402

BUDGET = 1_000  # executions, on the steady-state rows
MARKER_BUDGET = 100  # marker mode runs a few dozen executions a second at most
setups = 0
cutoff = None  # a number of executions after which setup stops the search


class BudgetHit(Exception):
    """Raised by setup to stop a search that has no budget of its own."""


class Shared:
    def __init__(self):
        global setups
        if setups == cutoff:
            raise BudgetHit
        setups += 1
        self.x = 0
        self.lock = threading.Lock()
        self.a = threading.Lock()
        self.b = threading.Lock()


def increment(shared):
    value = shared.x  # frontrun: read_x
    shared.x = value + 1  # frontrun: write_x


def increments(count):
    """The counter's worker when it adds one `count` times."""
    def run(shared):
        for _ in range(count):
            value = shared.x  # frontrun: read_x
            shared.x = value + 1  # frontrun: write_x
    return run


def locked_increment(shared):
    with shared.lock:
        value = shared.x
        shared.x = value + 1


def move(first, second):
    def run(shared):
        with getattr(shared, first):
            with getattr(shared, second):
                value = shared.x
                shared.x = value + 1
    return run


SCENARIOS = {  # name: (workers, expected final x)
    "counter 2x1": ([increment] * 2, 2),
    "counter 3x1": ([increment] * 3, 3),
    "locked counter": ([locked_increment] * 2, 2),
    "ABBA deadlock": ([move("a", "b"), move("b", "a")], 2),
}


STEADY = {"counter 2x3": 3, "counter 2x4": 4}  # name: increments per thread, 2 threads


PLAIN = {  # name: (class, workers, expected final value); the names are bench_peers.py's
    "Counter (frontrun README)": (Counter, [Counter.increment] * 2, 2),
    "FakeDatabase 2 threads": (FakeDatabase, [updater(0), updater(1)], 2),
    "FakeDatabase 3 threads": (FakeDatabase, [updater(0), updater(1), updater(2)], 3),
}


def plain(cls, workers, expected, **options):
    """frontrun.explore on an unmodified class, executions counted as the class's instances made."""
    def setup():
        global setups
        setups += 1
        return cls()

    def run():
        global setups
        setups = 0
        result = frontrun.explore(setup=setup, workers=workers,
                                  invariant=lambda shared: shared.value == expected, **options)
        return outcome(setups, result.property_holds is False, complete=result.property_holds is not None,
                       note=f"num_explored={result.num_explored}")
    return run


def dpor(workers, expected, **options):
    def run():
        global setups
        setups = 0
        result = frontrun.explore(setup=Shared, workers=workers, invariant=lambda s: s.x == expected, **options)
        complete = result.property_holds is not None and result.num_explored != options.get("max_executions")
        return outcome(setups, result.property_holds is False, complete=complete,
                       note=f"num_explored={result.num_explored}")
    return run


def markers(count, expected, repeats=1, budget=None):
    def run():
        global setups, cutoff
        setups, cutoff, violated = 0, budget, []

        def invariant(shared):
            violated.append(shared.x != expected)
            return not violated[-1]

        worker = increment if repeats == 1 else increments(repeats)
        threads = {f"T{i}": (worker, ["read_x", "write_x"] * repeats) for i in range(count)}
        try:
            result = explore_marker_interleavings(setup=Shared, threads=threads, invariant=invariant,
                                                  stop_on_first=False)
        except BudgetHit:
            return outcome(setups, any(violated), complete=False,
                           note=f"budget of {budget:,} executions hit; bug: a violated invariant before it")
        finally:
            cutoff = None
        return outcome(setups, result.property_holds is False, note=f"num_explored={result.num_explored}")
    return run


def main(argv):
    about("frontrun", "frontrun")
    if "--plain-only" not in argv:
        counters()
    for name, (cls, workers, expected) in PLAIN.items():
        emit(row("frontrun", "dpor (defaults)", name, plain(cls, workers, expected)))
        emit(row("frontrun", "dpor, every schedule", name,
                 plain(cls, workers, expected, stop_on_first=False, preemption_bound=None)))


def counters():
    """The rows on `Shared`: the counters, the locked counter and ABBA."""
    for name, (workers, expected) in SCENARIOS.items():
        emit(row("frontrun", "dpor (defaults)", name, dpor(workers, expected)))
        emit(row("frontrun", "dpor, every schedule", name,
                 dpor(workers, expected, stop_on_first=False, preemption_bound=None)))
        if "counter" in name and "locked" not in name:
            emit(row("frontrun", "markers, every schedule", name, markers(len(workers), expected)))
    for name, count in STEADY.items():
        emit(row("frontrun", "dpor, every schedule", name,
                 dpor([increments(count)] * 2, 2 * count, stop_on_first=False, preemption_bound=None,
                      max_executions=BUDGET)))
        emit(row("frontrun", "markers, every schedule", name, markers(2, 2 * count, count, MARKER_BUDGET)))


if __name__ == "__main__":
    main(sys.argv[1:])
