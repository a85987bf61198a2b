"""dpor on two worker processes against serial dpor: executions, seconds, and the load.

    python benchmarks/bench_parallel_dpor.py                 # indexer(15): about 13 s serially
    python benchmarks/bench_parallel_dpor.py lastzero 10 --workers 2

A parallel dpor search covers the same traces as the serial one; races that escape a work
unit come back to the coordinator, which runs some of them again or as new units, so it
may run a few more executions (the issue's budget: 5 % more). The machine's load average
is printed before and after: speed-ups mean little on a machine busy with other work.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import Scenario, explore, read, write  # noqa: E402
from scenarios.indexer import indexer  # noqa: E402
from scenarios.lastzero import lastzero  # noqa: E402

FAMILIES = {"indexer": indexer, "lastzero": lastzero, "counter": lambda n: counter(n)}


def increment():
    value = yield read("x")
    yield write("x", value + 1)


def counter(n: int) -> Scenario:
    return Scenario(f"counter {n}x1", variables={"x": 0}, threads={f"T{i}": increment for i in range(n)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", nargs="?", default="indexer", choices=sorted(FAMILIES))
    parser.add_argument("n", type=int, nargs="?", default=15, help="the size (default 15)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = FAMILIES[args.family](args.n)
    print(f"{scenario.name}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    serial = explore(scenario, strategy="dpor")
    serial_seconds = time.perf_counter() - started
    started = time.perf_counter()
    parallel = explore(scenario, strategy="dpor", workers=args.workers)
    parallel_seconds = time.perf_counter() - started
    print(f"serial:    {serial.executions:8} executions {serial_seconds:7.2f} s")
    print(f"{parallel.workers} workers: {parallel.executions:8} executions {parallel_seconds:7.2f} s "
          f"({len(parallel.unit_seconds)} units)")
    print(f"executions x{parallel.executions / serial.executions:.3f}, speed-up x{serial_seconds / parallel_seconds:.2f}; "
          f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    same = (set(serial.final_states) == set(parallel.final_states) and set(serial.outcomes) == set(parallel.outcomes)
            and {f.kind for f in serial.findings} == {f.kind for f in parallel.findings} and parallel.complete)
    if not same:
        print("the parallel search's verdicts differ from the serial one's")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
