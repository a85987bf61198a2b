"""bench_peers.py's frontrun driver: the four scenarios written the way frontrun's README shows.

Run by bench_peers.py as `benchmarks/.venvs/frontrun/bin/frontrun python frontrun_driver.py`:
frontrun.explore() refuses to run outside its CLI. Shared state is an object whose
attributes frontrun's bytecode tracing sees; the workers run on real threads that
frontrun's scheduler lets through one at a time. Executions are counted as calls of
`setup`, which frontrun makes once per execution, counterexample replays included.
"""

import sys
import threading
from pathlib import Path

import frontrun
from frontrun.trace_markers import explore_marker_interleavings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import about, emit, outcome, row  # noqa: E402

setups = 0


class Shared:
    def __init__(self):
        global setups
        setups += 1
        self.x = 0
        self.lock = threading.Lock()
        self.a = threading.Lock()
        self.b = threading.Lock()


def increment(shared):
    value = shared.x  # frontrun: read_x
    shared.x = value + 1  # frontrun: write_x


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


def dpor(workers, expected, **options):
    def run():
        global setups
        setups = 0
        result = frontrun.explore(setup=Shared, workers=workers, invariant=lambda s: s.x == expected, **options)
        return outcome(setups, result.property_holds is False, complete=result.property_holds is not None,
                       note=f"num_explored={result.num_explored}")
    return run


def markers(count, expected):
    def run():
        global setups
        setups = 0
        threads = {f"T{i}": (increment, ["read_x", "write_x"]) for i in range(count)}
        result = explore_marker_interleavings(setup=Shared, threads=threads, invariant=lambda s: s.x == expected,
                                              stop_on_first=False)
        return outcome(setups, result.property_holds is False, note=f"num_explored={result.num_explored}")
    return run


def main():
    about("frontrun", "frontrun")
    for name, (workers, expected) in SCENARIOS.items():
        emit(row("frontrun", "dpor (defaults)", name, dpor(workers, expected)))
        emit(row("frontrun", "dpor, every schedule", name,
                 dpor(workers, expected, stop_on_first=False, preemption_bound=None)))
        if "counter" in name and "locked" not in name:
            emit(row("frontrun", "markers, every schedule", name, markers(len(workers), expected)))


if __name__ == "__main__":
    main()
