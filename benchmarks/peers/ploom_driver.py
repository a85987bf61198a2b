"""bench_peers.py's ploom driver: the scenarios as ploom's README writes them.

ploom.check() runs depth first over every schedule of the ploom operations
(SharedCell reads and writes, Lock, Thread start and join), each schedule in a fresh
Python process, and stops at the first failing schedule, which it then minimizes
(extra executions, counted here; minimizing stops after ploom's default 2 seconds, so
their number moves with the machine's speed). Its Statistics give the executions. The default
budget of 200 executions is raised so that a search is never cut short; traces go to a
temporary directory. On the counters 2x3 and 2x4 (the steady-state rows) only the
"assertion removed" mode runs, with a budget of STEADY_BUDGET executions (a few a second).
"""

import sys
import tempfile
from pathlib import Path

import ploom

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import about, emit, outcome, row  # noqa: E402

CONFIG = ploom.Config(max_executions=1_000_000, timeout=3600.0)
STEADY_BUDGET = 30


def counter(count, locked=False, check=True, repeats=1):
    def scenario():
        x = ploom.SharedCell(0)
        lock = ploom.Lock()

        def increment():
            for _ in range(repeats):
                value = x.read()
                x.write(value + 1)

        def locked_increment():
            with lock:
                increment()

        threads = [ploom.Thread(target=locked_increment if locked else increment) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if check:
            assert x.read() == count * repeats, "lost update"
    return scenario


def abba():
    moves = ploom.SharedCell(0)
    a, b = ploom.Lock(), ploom.Lock()

    def move(first, second):
        with first:
            with second:
                value = moves.read()
                moves.write(value + 1)

    threads = [ploom.Thread(target=move, args=(a, b)), ploom.Thread(target=move, args=(b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert moves.read() == 2


def check(scenario):
    def run():
        with tempfile.TemporaryDirectory() as traces:
            try:
                statistics = ploom.check(scenario, config=CONFIG, trace_dir=Path(traces))
            except ploom.ModelCheckError as failure:
                executions = failure.statistics.executions + failure.reduction.executions
                return outcome(executions, True, note=f"{failure.statistics.executions} to the failure, "
                                                      f"{failure.reduction.executions} minimizing")
            return outcome(statistics.executions, False)
    return run


def enumerate_only(scenario, budget=None):
    config = CONFIG if budget is None else ploom.Config(max_executions=budget, timeout=CONFIG.timeout)

    def run():
        note = "no assertion: every schedule, nothing checked"
        try:
            statistics = ploom.check(scenario, config=config)
        except ploom.IncompleteExplorationError as cut:
            return outcome(cut.statistics.executions, None, complete=False, note=f"{note}; budget hit")
        return outcome(statistics.executions, None, note=note)
    return run


def main():
    about("ploom", "ploom")
    for name, scenario in {"counter 2x1": counter(2), "counter 3x1": counter(3),
                           "locked counter": counter(2, locked=True), "ABBA deadlock": abba}.items():
        emit(row("ploom", "check (every schedule until a failure)", name, check(scenario)))
    emit(row("ploom", "check, assertion removed", "counter 2x1", enumerate_only(counter(2, check=False))))
    for repeats in (3, 4):
        emit(row("ploom", "check, assertion removed", f"counter 2x{repeats}",
                 enumerate_only(counter(2, check=False, repeats=repeats), STEADY_BUDGET)))


if __name__ == "__main__":
    main()
