"""What exploring costs per step beyond running the step: a baseline, the engine, the strategy, the detectors.

    python benchmarks/bench_overhead.py                       # every row (several minutes)
    python benchmarks/bench_overhead.py --quick               # small sizes, a few seconds
    python benchmarks/bench_overhead.py --profile exhaustive  # where the time goes, counter 5x1

Each row runs one strategy on one scenario four ways, in the same process and run:

baseline  the scenario's own generators driven through the very schedules the strategy
          chose, with no engine: a dict of values and ``gen.send`` (what running the steps
          costs at the least; explorer is not involved).
engine    ``Execution.run`` replaying those schedules (a chooser that only hands back the
          next recorded thread): enabled sets, lock owners, the event log, the check that
          a replayed prefix repeats the previous execution.
+strategy the strategy itself choosing, as the search loop drives it, with no detectors.
explore   ``explore(scenario, strategy=...)``, wall time, everything included.

Per step, ``engine`` is engine minus baseline, ``strategy`` is +strategy minus engine,
``detectors`` is timed directly (lost updates, race pairs, lock-order edges run on every
execution's events) and ``search`` is the rest: explore minus +strategy minus detectors
(outcome counting, keeping witnesses, fixed costs such as the serial orders).
``over`` is explore minus baseline, and ``x`` explore divided by baseline. Executions a
strategy abandons (dpor's sleep-set blocked runs) count in the strategy's time, not in
the steps. Each timing is the minimum of a few repeats where one run takes under 3 s.
Counts with a closed form are checked; a mismatch exits with status 1.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_explore import multinomial  # noqa: E402
from bench_strategies import counter, independent  # noqa: E402

from explorer import explore  # noqa: E402
from explorer._engine.execution import Execution  # noqa: E402
from explorer._engine.program import Program  # noqa: E402
from explorer.detectors import PER_EXECUTION, lock_order_edges, race_pairs  # noqa: E402
from explorer.explore import DEFAULT_SAMPLES  # noqa: E402
from explorer.settings import DEFAULT_MAX_STEPS  # noqa: E402
from explorer.steps import Read, Write  # noqa: E402
from explorer.strategies import SAMPLING, STRATEGIES  # noqa: E402
from explorer.strategies.base import Abandon  # noqa: E402
from scenarios.dining_philosophers import dining  # noqa: E402
from scenarios.indexer import indexer  # noqa: E402

#: Runs shorter than this are repeated and the fastest kept.
CHEAP = 3.0


def cases(quick: bool) -> list[tuple]:
    """(label, scenario, strategies, {strategy: expected executions})."""
    every = tuple(STRATEGIES)  # "stateful" too, on a branch that has it
    samples = {name: DEFAULT_SAMPLES for name in SAMPLING}
    if quick:
        return [
            ("counter 3x1", counter(3)[0], every, {"exhaustive": multinomial(2, 2, 2), "dpor": 36, **samples}),
            ("independent 2x4", independent(2, 2)[0], every, {"exhaustive": multinomial(4, 4), "dpor": 1, **samples}),
            ("philosophers 3", dining(3, ordered=False), every, {"exhaustive": 234, **samples}),
            ("indexer(12)", indexer(12), ("dpor",), {"dpor": 8}),
        ]
    return [
        ("counter 5x1", counter(5)[0], every, {"exhaustive": multinomial(2, 2, 2, 2, 2), "dpor": 14_400, **samples}),
        ("independent 3x4", independent(3, 2)[0], every, {"exhaustive": multinomial(4, 4, 4), "dpor": 1, **samples}),
        ("philosophers 4", dining(4, ordered=False), every, {"exhaustive": 1_167_000, "dpor": 15, **samples}),
        ("indexer(13)", indexer(13), ("dpor",), {"dpor": 64}),
    ]


# ---- the four ways of running a strategy's schedules ---------------------------------


def drive(scenario, schedules: list[bytes]) -> float:
    """Baseline: seconds to run the generators through ``schedules`` with no engine."""
    factories = tuple(scenario.threads.values())
    initial = dict(scenario.variables)
    started = time.perf_counter()
    for schedule in schedules:
        values = dict(initial)
        gens = [factory() for factory in factories]
        pending = [gen.send(None) for gen in gens]
        for i in schedule:
            step = pending[i]
            cls = step.__class__
            value = None
            if cls is Read:
                value = values[step[1]]
            elif cls is Write:
                values[step[1]] = step[2]
            try:
                pending[i] = gens[i].send(value)
            except StopIteration:
                pending[i] = None
    return time.perf_counter() - started


def engine(scenario, schedules: list[bytes]) -> float:
    """Seconds for ``Execution.run`` to replay ``schedules``, as the search would run them."""
    program = Program(scenario)
    previous: list = []
    started = time.perf_counter()
    for schedule in schedules:
        following = iter(schedule).__next__
        run = Execution(program)
        run.run(lambda enabled: following(), DEFAULT_MAX_STEPS, previous)  # noqa: B023 - used at once
        previous = run.events
    return time.perf_counter() - started


def strategy_loop(scenario, name: str, *, record: bool = False):
    """The search loop with only the engine and the strategy (and, with ``record``, the
    detectors timed on their own). Returns (seconds, detector seconds, schedules, executions, steps)."""
    program = Program(scenario)
    strategy = STRATEGIES[name](0, None, None)
    max_executions = DEFAULT_SAMPLES if name in SAMPLING else None
    choose, begin, end = strategy.choose, strategy.begin, strategy.end
    needs_pending = getattr(strategy, "needs_pending", False)
    state_keys = None
    if getattr(strategy, "needs_state", False):
        from explorer._engine.state_keys import StateKeys  # only on a tree with the stateful strategy
        state_keys = StateKeys(program)
    names, k, has_locks = program.thread_names, len(program.thread_names), bool(program.lock_names)
    schedules: list[bytes] = []
    detecting = 0.0
    executions = steps = 0
    previous: list = []
    clock = time.perf_counter
    started = clock()
    while begin():
        if max_executions is not None and executions >= max_executions:
            break
        run = Execution(program)
        try:
            if needs_pending:
                status = run.run(lambda enabled, run=run: choose(enabled, run.pending), DEFAULT_MAX_STEPS, previous)
            elif state_keys is not None:
                key = state_keys.follow(run)
                status = run.run(lambda enabled: choose(enabled, key), DEFAULT_MAX_STEPS, previous)  # noqa: B023
            else:
                status = run.run(choose, DEFAULT_MAX_STEPS, previous)
        except Abandon:
            if needs_pending:
                strategy.ended = "abandoned"
            end()
            previous = run.events
            continue
        if needs_pending:
            strategy.ended = status
        executions += 1
        events = run.events
        steps += len(events)
        if record:
            mark = clock()
            schedules.append(bytes([event[0] for event in events]))
            detected = clock()
            for detect in PER_EXECUTION:
                detect(events, names)
            race_pairs(events, k)
            if has_locks:
                lock_order_edges(events)
            finished = clock()
            detecting += finished - detected
            started += finished - mark  # neither recording nor detecting counts as loop time
        end()
        previous = events
    return clock() - started, detecting, schedules, executions, steps


def fastest(measure, first: float) -> float:
    """``first`` and, if it was cheap, two more measurements: the least of them."""
    if first >= CHEAP:
        return first
    return min(first, measure(), measure())


def explore_seconds(scenario, name: str):
    started = time.perf_counter()
    result = explore(scenario, strategy=name)
    return time.perf_counter() - started, result


def row(label: str, scenario, name: str, expected: int | None) -> tuple[str, bool]:
    seconds, result = explore_seconds(scenario, name)
    explored = fastest(lambda: explore_seconds(scenario, name)[0], seconds)
    looped, detecting, schedules, executions, steps = strategy_loop(scenario, name, record=True)
    looped = fastest(lambda: strategy_loop(scenario, name)[0], looped)
    base = fastest(lambda: drive(scenario, schedules), drive(scenario, schedules))
    replayed = fastest(lambda: engine(scenario, schedules), engine(scenario, schedules))
    ok = expected is None or result.executions == expected
    same = executions == result.executions and steps == result.steps
    # A stateful search runs some cut runs on to their end, which this loop does not.
    ok &= same or getattr(STRATEGIES[name](0, None, None), "needs_state", False)
    ns = 1e9 / result.steps
    a, b, s, c, d = base * ns, replayed * ns, looped * ns, explored * ns, detecting * ns
    cells = (f"{label:<16} {name:<10} {result.executions:>10,} {result.steps:>10,} "
             f"{a:>7.0f} {b:>7.0f} {s:>7.0f} {c:>7.0f} {result.steps / explored:>9,.0f} "
             f"{b - a:>7.0f} {s - b:>7.0f} {d:>7.0f} {c - s - d:>7.0f} {c - a:>7.0f} {c / a:>5.1f}x")
    if not ok:
        cells += f"  COUNT MISMATCH (expected {expected}, loop {executions:,} executions, {steps:,} steps)"
    elif not same:
        cells += f"  (loop without detectors: {executions:,} executions, {steps:,} steps)"
    return cells, ok


HEAD = (f"{'scenario':<16} {'strategy':<10} {'executions':>10} {'steps':>10} "
        f"{'base':>7} {'engine':>7} {'+strat':>7} {'explore':>7} {'steps/s':>9} "
        f"{'engine':>7} {'strat':>7} {'detect':>7} {'search':>7} {'over':>7} {'x':>6}")


def load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


# ---- the profile ---------------------------------------------------------------------

USER = "user code (thread bodies, step objects)"
#: Where a function's file lies -> the part its own time counts to; the first match wins.
GROUPS = (("search loop", f"explorer{os.sep}_engine{os.sep}search.py"), ("engine", f"explorer{os.sep}_engine{os.sep}"),
          ("strategy", f"explorer{os.sep}strategies{os.sep}"), ("detectors", f"explorer{os.sep}detectors{os.sep}"),
          (USER, f"explorer{os.sep}steps.py"), ("explorer, other", f"explorer{os.sep}"),
          (USER, f"benchmarks{os.sep}"), (USER, f"scenarios{os.sep}"))


def group_of(filename: str, function: str) -> str:
    if filename == "~":
        return "C builtins (" + ("generator send" if "'send' of 'generator'" in function else "other") + ")"
    return next((group for group, part in GROUPS if part in filename), "python library")


def profile(name: str, size: int) -> None:
    scenario = counter(size)[0]
    explore(counter(2)[0], strategy=name)  # imports and first calls stay out of the profile
    profiler = cProfile.Profile()
    profiler.enable()
    result = explore(scenario, strategy=name)
    profiler.disable()
    print(f"{scenario.name}, {name}: {result.executions:,} executions, {result.steps:,} steps "
          f"(cProfile slows every call several times over; compare shares, not seconds)")
    print(load())
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(15)
    totals: dict[str, float] = {}
    for (filename, _line, function), (_cc, _calls, tottime, _cum, _callers) in stats.stats.items():
        group = group_of(filename, function)
        totals[group] = totals.get(group, 0.0) + tottime
    whole = sum(totals.values())
    print("own time (tottime) by part:")
    for group, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {group:<40} {seconds:>8.3f} s {100 * seconds / whole:>5.1f}%")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    parser.add_argument("--profile", metavar="STRATEGY", choices=sorted(STRATEGIES),
                        help="profile explore() on counter 5x1 (3x1 with --quick) with this strategy instead")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}; {load()}")
    if args.profile:
        profile(args.profile, 3 if args.quick else 5)
        return 0
    explore(counter(2)[0], strategy="dpor")  # warm up: imports and first calls stay out of the rows
    print("ns per step: base, engine, +strat, explore; then explore's steps/s; then overhead per step "
          "(ns): engine, strat, detect, search, over = explore - base; x = explore / base")
    print(HEAD)
    print("-" * len(HEAD))
    ok = True
    for label, scenario, names, expected in cases(args.quick):
        for name in names:
            text, good = row(label, scenario, name, expected.get(name))
            ok &= good
            print(text, flush=True)
    print(load())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
