"""Peak memory of exhaustive exploration does not grow with the number of executions.

Each size runs in a fresh subprocess, which reports its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) before and after exploring, so each
figure is that exploration's own peak. The scenario is four threads incrementing a
shared counter without a lock (lost updates, races, nonserializable outcomes: every
kind of per-search record the search keeps), each then touching a variable of its
own; with no locks every interleaving is a schedule, so the exhaustive count is the
multinomial coefficient of the threads' step counts, checked against the result.

    python benchmarks/bench_memory.py            # up to 1,201,200 executions (a few minutes)
    python benchmarks/bench_memory.py --quick    # up to 25,200 executions (seconds)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from math import factorial, prod
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Steps per thread for each size; the executions are (sum)! / prod(steps!).
SIZES = [(2, 2, 2, 2), (3, 3, 2, 2), (3, 3, 3, 2), (3, 3, 3, 3), (3, 3, 3, 4)]
QUICK = SIZES[:2]

CHILD = r"""
import json, resource, sys, time
from explorer import Scenario, explore, read, write

def body(own, steps):
    def thread():
        value = yield read("x")
        yield write("x", value + 1)
        if steps > 2:
            yield write(own, 1)
        if steps > 3:
            yield read(own)
    return thread

steps = json.loads(sys.argv[1])
names = "ABCD"[:len(steps)]
scenario = Scenario("counter", variables={"x": 0, **{n.lower(): 0 for n in names}},
                    threads={n: body(n.lower(), s) for n, s in zip(names, steps)})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
result = explore(scenario, strategy="exhaustive")
seconds = time.monotonic() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"executions": result.executions, "complete": result.complete, "seconds": seconds,
                  "before_kib": before, "peak_kib": after, "findings": len(result.findings),
                  "outcomes": len(result.outcomes)}))
"""


def expected(steps: tuple[int, ...]) -> int:
    return factorial(sum(steps)) // prod(factorial(s) for s in steps)


def measure(steps: tuple[int, ...]) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(list(steps))], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    figures = json.loads(done.stdout)
    if figures["executions"] != expected(steps) or not figures["complete"]:
        raise AssertionError(f"[explorer internal bug] steps {steps}: explored {figures['executions']} "
                             f"executions, the multinomial count is {expected(steps)}")
    figures["growth_kib"] = figures["peak_kib"] - figures["before_kib"]
    return figures


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'steps':>14} {'executions':>12} {'seconds':>8} {'peak RSS MiB':>13} {'growth MiB':>11}")
    for steps in QUICK if args.quick else SIZES:
        figures = measure(steps)
        rows.append(figures)
        print(f"{str(steps):>14} {figures['executions']:>12,} {figures['seconds']:>8.1f} "
              f"{figures['peak_kib'] / 1024:>13.1f} {figures['growth_kib'] / 1024:>11.1f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
