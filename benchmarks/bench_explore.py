"""Exploration speed: executions and steps per second, against a baseline in the same run.

    python benchmarks/bench_explore.py            # the full table (about a minute)
    python benchmarks/bench_explore.py --quick    # small sizes, to check it still runs

The baseline drives the same thread generators with no scheduler (each thread run
to its end, in order, values from a dict), as many steps as the exploration took:
the cost of the scenario's own Python code. ``overhead`` is explorer's time per
step over the baseline's. Counts are checked against the multinomial coefficient
where the threads are independent or the count is known in closed form. A row
marked "first N" stops at ``max_executions=N`` (its search has too many to finish):
long executions, where each run shares most of its racing pairs with the one before.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from functools import partial
from math import factorial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import Scenario, acquire, explore, read, release, write  # noqa: E402


def increment(var):
    value = yield read(var)
    yield write(var, value + 1)


def increments(var, times):
    for _ in range(times):
        yield from increment(var)


def locked_increment():
    yield acquire("lock")
    yield from increment("x")
    yield release("lock")


def counter(threads, times=1):
    return Scenario(f"counter {threads}x{times}", variables={"x": 0},
                    threads={f"T{t}": partial(increments, "x", times) for t in range(threads)})


def independent(threads, times):
    return Scenario(f"independent {threads}x{times}", variables={f"v{t}": 0 for t in range(threads)},
                    threads={f"T{t}": partial(increments, f"v{t}", times) for t in range(threads)})


def locked(threads):
    return Scenario(f"locked counter {threads}", variables={"x": 0}, locks=["lock"],
                    threads={f"T{t}": locked_increment for t in range(threads)})


def multinomial(*steps: int) -> int:
    count = factorial(sum(steps))
    for n in steps:
        count //= factorial(n)
    return count


def baseline(scenario: Scenario, steps: int) -> float:
    """Seconds to drive the scenario's generators, no scheduler, for ``steps`` steps."""
    done = 0
    started = time.perf_counter()
    while done < steps:
        values = dict(scenario.variables)
        for factory in scenario.threads.values():
            gen = factory()
            sent = None
            try:
                while True:
                    step = gen.send(sent)
                    done += 1
                    sent = values[step[1]] if step[0] == "read" else None
                    if step[0] == "write":
                        values[step[1]] = step[2]
            except StopIteration:
                pass
    return time.perf_counter() - started


def cases(quick: bool):
    if quick:
        return [(counter(3), multinomial(2, 2, 2), None), (independent(2, 2), multinomial(4, 4), None),
                (locked(3), factorial(3), None), (counter(2, 12), multinomial(24, 24), 500)]
    return [
        (counter(5), multinomial(2, 2, 2, 2, 2), None),        # 113,400 executions
        (independent(3, 2), multinomial(4, 4, 4), None),      # 34,650
        (counter(2, 4), multinomial(8, 8), None),             # 12,870, longer executions
        (locked(8), factorial(8), None),                      # 40,320: locks, forced steps
        (counter(2, 12), multinomial(24, 24), 20_000),        # 48 steps a run, 576 racing pairs
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, exhaustive strategy")
    header = (f"{'scenario':<22}{'executions':>11}{'expected':>10}{'steps':>10}{'seconds':>9}"
              f"{'exec/s':>10}{'steps/s':>10}{'base steps/s':>14}{'overhead':>9}")
    print(header)
    print("-" * len(header))
    ok = True
    for scenario, expected, budget in cases(args.quick):
        result = explore(scenario, strategy="exhaustive", max_executions=budget)
        base = baseline(scenario, result.steps)
        per_step = result.elapsed / result.steps
        if budget is None:
            match = result.executions == expected and result.complete
            name = scenario.name
        else:  # the first runs of a search that has more
            match = result.executions == budget < expected and result.stop_reason == "max_executions"
            name, expected = f"{scenario.name}, first", budget
        ok &= match
        print(f"{name:<22}{result.executions:>11,}{expected:>10,}{result.steps:>10,}"
              f"{result.elapsed:>9.2f}{result.executions / result.elapsed:>10,.0f}"
              f"{result.steps / result.elapsed:>10,.0f}{result.steps / base:>14,.0f}"
              f"{per_step / (base / result.steps):>8.1f}x" + ("" if match else "  COUNT MISMATCH"))
    if not ok:
        sys.exit("a count did not match its closed form")


if __name__ == "__main__":
    main()
