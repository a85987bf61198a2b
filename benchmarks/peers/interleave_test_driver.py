"""bench_peers.py's interleave-test driver: the scenarios as interleave-test's README writes them.

interleave_test.explore(model, strategy="dfs") is its exhaustive mode: CHESS-style
depth-first search over every schedule with at most `max_preemptions` preemptions,
stopping at the first failing schedule. Scheduling points are the lines (here:
`granularity="line"`, so a read and a write are one step each, as in explorer) of
the model and its threads, the model's own spawn and join included. Executions are
counted as calls of the model. On the counters 2x3 and 2x4 (the steady-state rows)
only "every schedule, assertion removed" runs: with the assertion it stops after a
handful of schedules.
"""

import sys
from pathlib import Path

import interleave_test as it

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import about, emit, outcome, row  # noqa: E402

UNBOUNDED = 1_000_000
BUDGET = 20_000  # schedules, for the runs without a preemption bound
models = 0


def counter(count, locked=False, check=True, repeats=1):
    def model():
        global models
        models += 1
        shared = {"x": 0}
        lock = it.Lock()

        def increment():
            value = shared["x"]
            shared["x"] = value + 1

        def increments():  # its `for` line is a scheduling point too, so 2x1 keeps the loop-free body
            for _ in range(repeats):
                increment()

        def locked_increment():
            with lock:
                increment()

        worker = locked_increment if locked else increment if repeats == 1 else increments
        tasks = [it.spawn(worker) for _ in range(count)]
        for task in tasks:
            task.join()
        if check:
            assert shared["x"] == count * repeats
    return model


def abba():
    global models
    models += 1
    shared = {"moves": 0}
    a, b = it.Lock(), it.Lock()

    def move(first, second):
        with first:
            with second:
                value = shared["moves"]
                shared["moves"] = value + 1

    tasks = [it.spawn(move, a, b), it.spawn(move, b, a)]
    for task in tasks:
        task.join()
    assert shared["moves"] == 2


def dfs(model, max_preemptions, checked=True):
    def run():
        global models
        models = 0
        result = it.explore(model, strategy="dfs", granularity="line", max_preemptions=max_preemptions,
                            iterations=BUDGET, seed=0, raise_on_failure=False)
        cut = result.ok and not result.exhausted
        note = f"budget of {BUDGET:,} schedules hit" if cut else ""
        if not checked:
            note = "no assertion: every schedule, nothing checked" + (f"; {note}" if note else "")
        bug = (not result.ok) if checked else None
        return outcome(models, bug, complete=not cut, note=note)
    return run


def main():
    about("interleave-test", "interleave-test")
    for name, model in {"counter 2x1": counter(2), "counter 3x1": counter(3),
                        "locked counter": counter(2, locked=True), "ABBA deadlock": abba}.items():
        emit(row("interleave-test", "dfs, <= 2 preemptions (README)", name, dfs(model, 2)))
        emit(row("interleave-test", "dfs, every schedule", name, dfs(model, UNBOUNDED)))
    for count in (2, 3):
        emit(row("interleave-test", "dfs, every schedule, assertion removed", f"counter {count}x1",
                 dfs(counter(count, check=False), UNBOUNDED, checked=False)))
    for repeats in (3, 4):
        emit(row("interleave-test", "dfs, every schedule, assertion removed", f"counter 2x{repeats}",
                 dfs(counter(2, check=False, repeats=repeats), UNBOUNDED, checked=False)))


if __name__ == "__main__":
    main()
