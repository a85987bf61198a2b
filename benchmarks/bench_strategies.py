"""Strategies side by side: executions, seconds and steps per second, exhaustive against dpor and stateful.

    python benchmarks/bench_strategies.py          # every row (about a minute and a half)
    python benchmarks/bench_strategies.py --quick  # the small rows

"traces" is the number of Mazurkiewicz traces where a closed form gives it: (n!)^2 for the
n-thread counter, 1 for threads that share nothing, and for the literature's benchmarks
(scenarios/lastzero.py, filesystem.py, indexer.py) the forms their docstrings derive.
"published" is the count a paper's tool records for that size: lastzero(5) = 64 (Concuerror,
tests/suites/dpor_tests/results/last_zero-test-inf-dpor.txt) and filesystem(16) = 8 (Concuerror,
.../file_system_example-test-inf-dpor.txt). dpor must equal both; a mismatch exits with status 1.
Exhaustive rows above ~1 million executions are skipped (marked "-") to keep the run short.
indexer(15), the papers' largest indexer, is left out: about ten minutes here.
A strategy whose final states differ from another's also exits with status 1. Stateful rows
above a minute are skipped too. Pruned runs (cut by a sleep set or at a visited state) are not
executions, and their steps are not counted in steps/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from math import factorial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import Scenario, explore, read, write  # noqa: E402
from scenarios.dining_philosophers import dining  # noqa: E402
from scenarios.filesystem import filesystem  # noqa: E402
from scenarios.indexer import indexer  # noqa: E402
from scenarios.lastzero import lastzero  # noqa: E402

#: The literature's benchmarks at the papers' sizes: (scenario, traces, published count or None).
LITERATURE = {
    "quick": [(lastzero(5), 64, 64), (filesystem(14), 2, None), (filesystem(16), 8, 8), (indexer(12), 8, None)],
    "full": [(lastzero(10), 13 * 2 ** 8, None), (filesystem(18), 2 ** 5, None), (filesystem(19), 2 ** 6, None),
             (indexer(13), 8 ** 2, None), (indexer(14), 8 ** 3, None)],
}


def increment():
    value = yield read("x")
    yield write("x", value + 1)


def counter(n: int) -> tuple[Scenario, int]:
    scenario = Scenario(f"counter {n}x1", variables={"x": 0}, threads={f"T{i}": increment for i in range(n)})
    return scenario, factorial(n) ** 2


def independent(n: int, steps: int) -> tuple[Scenario, int]:
    def private(var):
        def run():
            for _ in range(steps):
                value = yield read(var)
                yield write(var, value + 1)
        return run

    scenario = Scenario(f"independent {n}x{2 * steps}", variables={f"v{i}": 0 for i in range(n)},
                        threads={f"T{i}": private(f"v{i}") for i in range(n)})
    return scenario, 1


def timed(scenario, strategy):
    started = time.perf_counter()
    result = explore(scenario, strategy=strategy)
    return result, time.perf_counter() - started


def main(quick: bool) -> int:
    rows = [counter(2), counter(3), counter(4), independent(3, 1), independent(3, 2),
            (dining(3, ordered=False), None)]
    rows = [(scenario, traces, None) for scenario, traces in rows] + LITERATURE["quick"]
    if not quick:
        rows += [(scenario, traces, None) for scenario, traces in [
            (dining(4, ordered=False), None), counter(5), counter(6), independent(4, 2), (dining(5, ordered=False), None),
            (dining(8, ordered=False), None)]] + LITERATURE["full"]
    skip_exhaustive = {"counter 6x1", "independent 4x4", "dining philosophers, 5, left fork first",
                       "dining philosophers, 8, left fork first"}
    skip_exhaustive |= {scenario.name for scenario, _, _ in LITERATURE["quick"] + LITERATURE["full"]}
    # Stateful search keys states by each thread's history, which merges little when many
    # threads each take a few steps: filesystem(14) and indexer(12) do not finish in minutes.
    skip_stateful = {"dining philosophers, 8, left fork first"} | {
        scenario.name for scenario, _, _ in LITERATURE["quick"] + LITERATURE["full"]
        if scenario.name != "lastzero(5)"}
    timed(dining(3, ordered=False), "dpor")  # warm up: imports (networkx) and first-call costs stay out of the rows
    print(f"python {sys.version.split()[0]}")
    head = (f"{'scenario':34} {'traces':>8} {'published':>9} {'exhaustive':>11} {'s':>6} {'steps/s':>8} "
            f"{'dpor':>7} {'pruned':>6} {'s':>6} {'steps/s':>8} {'dpor/traces':>11} {'speed-up':>8} "
            f"{'stateful':>8} {'pruned':>7} {'s':>6} {'steps/s':>8}")
    print(head)
    print("-" * len(head))
    failed = False
    for scenario, traces, published in rows:
        dpor, dpor_s = timed(scenario, "dpor")
        if scenario.name in skip_exhaustive:
            exhaustive_cells, speedup = f"{'-':>11} {'-':>6} {'-':>8}", "-"
        else:
            exhaustive, exhaustive_s = timed(scenario, "exhaustive")
            exhaustive_cells = (f"{exhaustive.executions:>11,} {exhaustive_s:>6.2f} "
                                f"{exhaustive.steps / exhaustive_s:>8,.0f}")
            speedup = f"{exhaustive_s / dpor_s:.0f}x"
            failed |= set(exhaustive.final_states) != set(dpor.final_states)
        if scenario.name in skip_stateful:
            stateful_cells = f"{'-':>8} {'-':>7} {'-':>6} {'-':>8}"
        else:
            stateful, stateful_s = timed(scenario, "stateful")
            stateful_cells = (f"{stateful.executions:>8,} {stateful.pruned:>7,} {stateful_s:>6.2f} "
                              f"{stateful.steps / stateful_s:>8,.0f}")
            failed |= set(stateful.final_states) != set(dpor.final_states)
        ratio = "-" if traces is None else f"{dpor.executions / traces:.2f}"
        failed |= traces is not None and dpor.executions != traces
        failed |= published is not None and dpor.executions != published
        print(f"{scenario.name:34} {traces if traces is not None else '-':>8} "
              f"{published if published is not None else '-':>9} {exhaustive_cells} "
              f"{dpor.executions:>7,} {dpor.pruned:>6,} {dpor_s:>6.2f} {dpor.steps / dpor_s:>8,.0f} "
              f"{ratio:>11} {speedup:>8} {stateful_cells}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small rows only (seconds)")
    sys.exit(main(parser.parse_args().quick))
