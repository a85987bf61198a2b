"""What exploring costs per step beyond running the step: a baseline, the engine, the strategy, the detectors.

    python benchmarks/bench_overhead.py                       # every row (several minutes)
    python benchmarks/bench_overhead.py --quick               # small sizes, a few seconds
    python benchmarks/bench_overhead.py --profile exhaustive  # where the time goes, counter 5x1
    python benchmarks/bench_overhead.py --plain               # plain code against its generator twin only
    python benchmarks/bench_overhead.py --plain --profile exhaustive  # where a plain program's time goes

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
``detectors`` is timed directly (lost updates, race pairs, lock-order edges on every
execution's events, each resumed where the execution stops sharing the previous one's, as
the search runs them) and ``search`` is the rest: explore minus +strategy minus detectors
(outcome counting, keeping witnesses, fixed costs such as the serial orders).
``over`` is explore minus baseline, and ``x`` explore divided by baseline. Executions a
strategy abandons (dpor's sleep-set blocked runs) count in the strategy's time, not in
the steps. Each timing is the minimum of a few repeats where one run takes under 3 s.
Counts with a closed form are checked; a mismatch exits with status 1.

A second table sets plain code (``explorer.program``, issue 15) beside its generator twin:
the same program written step for step as generators (its main thread's writes in
``__init__``, its spawns and joins, each worker's read, sleep and write, the check's read),
so that both make the same executions of the same steps under every strategy. Per step,
``plain`` and ``twin`` are each a whole ``explore()`` divided by its steps (where a run is
under 3 s, the least of runs taken in turns, at least three of each and 2 s in all), and
``x`` is plain over twin (the goal: at most 3). Differing counts print COUNT MISMATCH and
exit with status 1, except under stateful search, whose counts also depend on how the two
programs' values compare (the row says so).
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

from explorer import Scenario, explore, join, program, read, spawn, write  # noqa: E402
from explorer._engine.execution import Execution  # noqa: E402
from explorer._engine.program import Program  # noqa: E402
from explorer._engine.search import _agreed  # noqa: E402
from explorer.detectors.lock_order import LockOrderEdges  # noqa: E402
from explorer.detectors.lost_update import LostUpdateKeys  # noqa: E402
from explorer.detectors.races import RacePairs  # noqa: E402
from explorer.explore import DEFAULT_SAMPLES  # noqa: E402
from explorer.settings import DEFAULT_MAX_STEPS  # noqa: E402
from explorer.steps import Op, Read, Write  # noqa: E402
from explorer.strategies import SAMPLING, STRATEGIES  # noqa: E402
from explorer.strategies.base import Abandon  # noqa: E402
from scenarios.dining_philosophers import dining  # noqa: E402
from scenarios.indexer import indexer  # noqa: E402

sys.path.insert(0, str(HERE / "peers"))
from plain_code import Counter, FakeDatabase, updater  # noqa: E402

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
    if hasattr(strategy, "bind"):  # as the search does: dpor's footprints, stateful's graph walk
        strategy.bind(program)
    needs_pending = getattr(strategy, "needs_pending", False)
    state_keys = None
    if getattr(strategy, "needs_state", False):
        from explorer._engine.state_keys import StateKeys  # only on a tree with the stateful strategy
        state_keys = StateKeys(program, symmetry=getattr(strategy, "symmetry", False))
    k, has_locks = len(program.thread_names), bool(program.lock_names)
    lost, racing, ordering = LostUpdateKeys(), RacePairs(k), LockOrderEdges()
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
                status = run.run(lambda enabled: choose(enabled, key, run.pending),  # noqa: B023
                                 DEFAULT_MAX_STEPS, previous)
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
            lost.of(events, _agreed(run, lost.events))
            racing.of(events, _agreed(run, racing.events), len(run.pending))
            if has_locks:
                ordering.of(events, _agreed(run, ordering.events))
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


# ---- plain code against its generator twin -------------------------------------------

#: Seconds that a cheap plain row and its twin are repeated for, together: on a shared machine the
#: least of many runs of a few milliseconds is steadier than the least of three.
PLAIN_REPEATS = 2.0
#: The same with --quick, which checks the counts: its times are rough.
QUICK_REPEATS = 0.2

#: What ``time.sleep`` is in plain code (explorer/plain/clock.py), for the twins to yield.
SLEEP = Op("sleep", "time", 0.1)


def plain_counter(workers: int) -> Scenario:
    """frontrun's README Counter, unmodified, incremented by ``workers`` threads."""
    return program(f"Counter {workers} threads", setup=Counter,
                   threads={f"T{i}": Counter.increment for i in range(workers)},
                   check=lambda counter: counter.value == workers)


def twin_counter(workers: int) -> Scenario:
    """``plain_counter`` written as generators, step for step."""
    def increment():
        temp = yield read("value")
        yield write("value", temp + 1)

    def main():
        yield write("value", 0)  # __init__
        for i in range(workers):
            yield spawn(f"T{i}", increment)
        for i in range(workers):
            yield join(f"T{i}")
        return (yield read("value")) == workers  # check

    return Scenario(f"Counter {workers} threads, twin", variables={"value": None}, threads={"main": main},
                    check=lambda outcome: outcome["main"])


def plain_database(workers: int) -> Scenario:
    """The seed notebook's FakeDatabase, unmodified, updated by ``workers`` threads."""
    return program(f"FakeDatabase {workers} threads", setup=FakeDatabase,
                   threads={f"T{i}": updater(i) for i in range(workers)},
                   check=lambda database: database.value == workers)


def twin_database(workers: int) -> Scenario:
    """``plain_database`` written as generators, step for step (logging is not a step)."""
    def update(name):
        local_copy = yield read("value")
        local_copy += 1
        yield SLEEP
        yield write("value", local_copy)

    def main():
        yield write("value", 0)  # __init__
        yield write("_lock", None)
        for i in range(workers):
            yield spawn(f"T{i}", update, i)
        for i in range(workers):
            yield join(f"T{i}")
        return (yield read("value")) == workers  # check

    return Scenario(f"FakeDatabase {workers} threads, twin", variables={"value": None, "_lock": None},
                    threads={"main": main}, check=lambda outcome: outcome["main"])


def plain_cases(quick: bool) -> list[tuple]:
    """(label, plain program, its generator twin, strategies)."""
    every = tuple(STRATEGIES)
    cases_ = [("Counter 2", plain_counter(2), twin_counter(2), every),
              ("FakeDatabase 2", plain_database(2), twin_database(2), every)]
    if not quick:
        cases_ += [("Counter 3", plain_counter(3), twin_counter(3), every),
                   ("FakeDatabase 3", plain_database(3), twin_database(3), every)]
    return cases_


def plain_row(label: str, plain, twin, name: str, repeats: float = PLAIN_REPEATS) -> tuple[str, bool]:
    """One strategy on a plain program and on its twin, per step, repeated for ``repeats``
    seconds where cheap. A strategy that cannot run a plain program gets a line saying what
    it raised (an explorer bug to fix, not a figure)."""
    twin_seconds, twin_result = explore_seconds(twin, name)
    try:
        plain_seconds, plain_result = explore_seconds(plain, name)
    except Exception as error:  # noqa: BLE001 - reported in the table, the other rows still run
        return f"{label:<16} {name:<10} explore() of the plain program raised {error!r}", True
    if max(twin_seconds, plain_seconds) < CHEAP:  # repeated in turns, so that a change of load hits both
        rounds, spent = 1, twin_seconds + plain_seconds
        while rounds < 3 or spent < repeats:
            twin_again, plain_again = explore_seconds(twin, name)[0], explore_seconds(plain, name)[0]
            twin_seconds, plain_seconds = min(twin_seconds, twin_again), min(plain_seconds, plain_again)
            rounds, spent = rounds + 1, spent + twin_again + plain_again
    steps = plain_result.steps
    same = (plain_result.executions, steps) == (twin_result.executions, twin_result.steps)
    twin_ns, plain_ns = twin_seconds * 1e9 / twin_result.steps, plain_seconds * 1e9 / steps
    cells = (f"{label:<16} {name:<10} {plain_result.executions:>10,} {steps:>10,} "
             f"{twin_ns:>9,.0f} {plain_ns:>9,.0f} {plain_ns / twin_ns:>6.2f}x "
             f"{plain_result.executions / plain_seconds:>9,.0f} "
             f"{twin_result.executions / twin_seconds:>9,.0f}")
    twin_counts = f"twin: {twin_result.executions:,} executions, {twin_result.steps:,} steps"
    if not same and getattr(STRATEGIES[name](0, None, None), "needs_state", False):
        # Stateful search merges equal states, so its counts also depend on how the two programs'
        # values compare (a plain run's objects are made afresh), not only on their steps.
        return cells + f"  (merges states differently; {twin_counts})", True
    if not same:
        cells += f"  COUNT MISMATCH ({twin_counts})"
    return cells, same


PLAIN_HEAD = (f"{'program':<16} {'strategy':<10} {'executions':>10} {'steps':>10} "
              f"{'twin ns':>9} {'plain ns':>9} {'x':>7} {'plain e/s':>9} {'twin e/s':>9}")


def plain_rows(quick: bool) -> bool:
    print("plain code (explorer.program) against its generator twin: ns per step of a whole explore(), "
          "x = plain / twin; then executions per second")
    print(PLAIN_HEAD)
    print("-" * len(PLAIN_HEAD))
    ok = True
    for label, plain, twin, names in plain_cases(quick):
        for name in names:
            text, good = plain_row(label, plain, twin, name, QUICK_REPEATS if quick else PLAIN_REPEATS)
            ok &= good
            print(text, flush=True)
    return ok


# ---- the profile ---------------------------------------------------------------------

USER = "user code (thread bodies, step objects)"
#: Where a function's file lies -> the part its own time counts to; the first match wins.
GROUPS = (("search loop", f"explorer{os.sep}_engine{os.sep}search.py"), ("engine", f"explorer{os.sep}_engine{os.sep}"),
          ("strategy", f"explorer{os.sep}strategies{os.sep}"), ("detectors", f"explorer{os.sep}detectors{os.sep}"),
          (USER, f"explorer{os.sep}steps.py"), ("plain runtime", f"explorer{os.sep}plain{os.sep}"),
          ("explorer, other", f"explorer{os.sep}"),
          (USER, f"benchmarks{os.sep}"), (USER, f"scenarios{os.sep}"))


def group_of(filename: str, function: str) -> str:
    if filename == "~":
        if "greenlet" in function:
            return "C builtins (greenlet switch)"
        return "C builtins (" + ("generator send" if "'send' of 'generator'" in function else "other") + ")"
    return next((group for group, part in GROUPS if part in filename), "python library")


def profile(name: str, size: int, plain: bool = False) -> None:
    scenario = plain_database(size) if plain else counter(size)[0]
    # imports and first calls stay out of the profile
    explore(plain_database(2) if plain else counter(2)[0], strategy=name)
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
                        help="profile explore() on counter 5x1 (3x1 with --quick) with this strategy instead "
                             "(with --plain: the plain FakeDatabase, 3 threads, 2 with --quick)")
    parser.add_argument("--plain", action="store_true",
                        help="only plain code (explorer.program) against its generator twin")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}; {load()}")
    if args.profile:
        size = (2 if args.quick else 3) if args.plain else (3 if args.quick else 5)
        profile(args.profile, size, args.plain)
        return 0
    if args.plain:
        explore(plain_database(2), strategy="dpor")  # warm up
        ok = plain_rows(args.quick)
        print(load())
        return 0 if ok else 1
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
    print()
    ok &= plain_rows(args.quick)
    print(load())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
