"""Time per step of one long execution under dpor: it must not grow with the length.

Each scenario is explored by dpor in a single execution (its steps commute, so there is
one Mazurkiewicz trace): two threads reading one variable, and two threads each writing
a variable of its own under a lock of its own. The table gives, per length, the
whole exploration's time (the run, dpor's race analysis, the detectors, the serial
baseline) divided by the steps; the last column is its ratio to the shortest length's.

    python benchmarks/bench_long_execution.py            # 1,000 to 20,000 steps
    python benchmarks/bench_long_execution.py --quick    # 1,000 to 4,000 steps

Issue 14 measured 40 s for one 10,000-step execution (dpor's immediate-predecessor loop
and the race detector both looked back at every earlier step); now it takes well under a
second, and the time per step stays within a small factor from 1,000 to 20,000 steps.
"""

from __future__ import annotations

import argparse
import time

from explorer import Scenario, acquire, explore, read, release, write

LENGTHS = [1_000, 2_000, 5_000, 10_000, 20_000]
QUICK = [1_000, 2_000, 4_000]


def readers(steps: int) -> Scenario:
    def body():
        for _ in range(steps // 2):
            yield read("x")
    return Scenario(f"readers {steps}", variables={"x": 0}, threads={"A": body, "B": body})


def lockers(steps: int) -> Scenario:
    def body(lock, own):
        def thread():
            for n in range(steps // 6):
                yield acquire(lock)
                yield write(own, n)
                yield release(lock)
        return thread
    return Scenario(f"lockers {steps}", variables={"a": 0, "b": 0}, locks=["l", "m"],
                    threads={"A": body("l", "a"), "B": body("m", "b")})


def measure(scenario: Scenario) -> tuple[int, float]:
    """The steps of ``scenario``'s one execution, and the seconds per step of exploring it with dpor."""
    started = time.perf_counter()
    result = explore(scenario, max_steps=1_000_000)
    elapsed = time.perf_counter() - started
    assert result.executions == 1 and result.complete, (result.executions, result.stop_reason)
    return result.steps, elapsed / result.steps


def main(argv: list[str] | None = None) -> list[tuple[str, int, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only up to 4,000 steps")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'scenario':10} {'steps':>7} {'us/step':>8} {'x first':>8}")
    for make in (readers, lockers):
        first = None
        for steps in QUICK if args.quick else LENGTHS:
            steps, per_step = measure(make(steps))
            first = first or per_step
            rows.append((make.__name__, steps, per_step, per_step / first))
            print(f"{make.__name__:10} {steps:>7,} {per_step * 1e6:>8.1f} {per_step / first:>8.2f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
