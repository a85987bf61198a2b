"""The threading lessons: steps per second, and how far dpor goes above one execution per trace.

    python benchmarks/bench_lessons.py          # every row (a few minutes)
    python benchmarks/bench_lessons.py --quick  # the small rows, to check it still runs

Speed: producer/consumer with a Condition (the lesson, and a larger one: three consumers
of three items), the Queue worker pool and ``ThreadPoolExecutor.map`` (the pool lessons),
each explored exhaustively and with dpor; steps per second is the steps of the explored
executions over the wall time of ``explore()``, with the load average beside each row
(the machine may be shared).

Traces: for every lesson in scenarios/ that uses the new kinds, the number of
Mazurkiewicz traces, counted without dpor: every schedule exhaustive search runs is
replayed, and its events are reduced to a canonical form (each thread's steps, and the
order of every dependent pair of steps of different threads, dependence as
explorer/objects/dependence.py defines it); the traces are the distinct forms. dpor
runs one execution per trace on programs that never wait; on programs that do, it
falls back to Flanagan and Godefroid's backtracking and may run more (``dpor/traces``),
and abandons runs its sleep sets block (``pruned``, not counted as executions).
A dpor count below the trace count (it ran 11 executions for the swapped bounded
buffer's 18 traces before its fallback for waiting steps went to the backtracking set),
or final states or finding kinds that differ from exhaustive's, exit with status 1.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import Condition, Scenario, explore  # noqa: E402
from explorer._engine.execution import Execution  # noqa: E402
from explorer._engine.program import Program  # noqa: E402
from explorer._engine.search import search  # noqa: E402
from explorer.objects.dependence import dependent  # noqa: E402
from explorer.settings import Settings  # noqa: E402
from explorer.strategies import Exhaustive, FollowSchedule  # noqa: E402
from explorer.strategies.recording import Recording  # noqa: E402
from scenarios import (  # noqa: E402
    barrier_phases,
    bounded_buffer,
    counter,
    event_handshake,
    producer_consumer,
    queue_workers,
    readers_writers,
    seed_notebook_steps,
)


def load() -> str:
    try:
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load unknown"


def bigger_producer_consumer() -> Scenario:
    """One producer of three items, three consumers looping with ``while``."""
    consumer = producer_consumer.consumer
    return Scenario("producer/consumer, 3 consumers", variables={"items": ()}, locks={"lock": "lock"},
                    objects={"ready": Condition("lock")},
                    threads={"P": partial(producer_consumer.producer, (1, 2, 3)),
                             "C1": consumer, "C2": consumer, "C3": consumer})


def speed_rows(quick: bool) -> list[Scenario]:
    rows = [producer_consumer.producer_consumer, seed_notebook_steps.executor_map]
    if not quick:
        rows += [bigger_producer_consumer(), queue_workers.queue_workers]
    return rows


def lessons() -> list[Scenario]:
    modules = [producer_consumer, bounded_buffer, event_handshake, barrier_phases, queue_workers, seed_notebook_steps,
               readers_writers]
    found = [value for module in modules for value in vars(module).values() if isinstance(value, Scenario)]
    return found + [counter.atomic_counter]


def canonical(program: Program, events: list[tuple]) -> tuple:
    """The Mazurkiewicz trace of one execution: each thread's steps, and for every dependent pair of
    steps of different threads, which came first (each step named by its thread and its place)."""
    footprint = program.footprint
    mine: dict[int, list] = {}
    named = []
    for thread, step, _value, _enabled in events:
        steps = mine.setdefault(thread, [])
        named.append((thread, len(steps), step))
        steps.append(_comparable(step))
    order = []
    for j, (thread_j, k_j, step_j) in enumerate(named):
        for thread_i, k_i, step_i in named[:j]:
            if thread_i != thread_j and dependent(step_i, step_j, footprint):
                order.append(((thread_i, k_i), (thread_j, k_j)))
    return tuple(sorted((t, tuple(steps)) for t, steps in mine.items())), frozenset(order)


def _comparable(step: tuple) -> tuple:
    """A step as traces compare it: an exception a task ended with (a ``finish`` step holds
    one, made afresh in every run) by its class and text, not by its identity."""
    if any(isinstance(item, BaseException) for item in step):
        return tuple((type(item).__name__, str(item)) if isinstance(item, BaseException) else item
                     for item in step)
    return step


def trace_count(scenario: Scenario) -> tuple[int, int]:
    """(exhaustive executions, distinct traces among them)."""
    program = Program(scenario)
    recording = Recording(Exhaustive())
    search(program, recording, "exhaustive", Settings())
    traces = set()
    for schedule in recording.schedules:
        follow = FollowSchedule(list(schedule), program.thread_names, extend=False)
        follow.begin()
        run = Execution(program)
        run.run(follow.choose)
        traces.add(canonical(program, run.events))
    return len(recording.schedules), len(traces)


def timed(scenario: Scenario, strategy: str):
    started = time.perf_counter()
    result = explore(scenario, strategy=strategy)
    return result, time.perf_counter() - started


def main(quick: bool) -> int:
    explore(producer_consumer.producer_consumer, strategy="dpor")  # imports and first calls stay out of the rows
    print(f"python {platform.python_version()} on {platform.machine()}; {load()}")
    head = f"{'scenario':40} {'strategy':10} {'executions':>10} {'steps':>9} {'s':>6} {'steps/s':>8}  load average"
    print(head)
    print("-" * len(head))
    for scenario in speed_rows(quick):
        for strategy in ("exhaustive", "dpor"):
            result, seconds = timed(scenario, strategy)
            print(f"{scenario.name:40} {strategy:10} {result.executions:>10,} {result.steps:>9,} {seconds:>6.2f} "
                  f"{result.steps / seconds:>8,.0f}  {load()}", flush=True)
    print()
    head = (f"{'lesson':56} {'exhaustive':>10} {'traces':>7} {'dpor':>6} {'pruned':>6} {'dpor/traces':>11}  "
            f"load average")
    print(head)
    print("-" * len(head))
    failed = False
    rows = lessons()
    if quick:
        rows = [s for s in rows if s.name not in (queue_workers.queue_workers.name, bounded_buffer.bounded_buffer.name,
                                                  readers_writers.readers_writers_read_after_leaving.name)]
    for scenario in rows:
        executions, traces = trace_count(scenario)
        dpor = explore(scenario, strategy="dpor")
        exhaustive = explore(scenario, strategy="exhaustive")
        bad = (dpor.executions < traces or set(dpor.final_states) != set(exhaustive.final_states)
               or {f.kind for f in dpor.findings} != {f.kind for f in exhaustive.findings})
        failed |= bad
        print(f"{scenario.name:56} {executions:>10,} {traces:>7,} {dpor.executions:>6,} {dpor.pruned:>6,} "
              f"{dpor.executions / traces:>11.2f}  {load()}{'  MISMATCH' if bad else ''}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))
