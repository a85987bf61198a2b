"""How every tool in bench_peers.py is timed and reported: the drivers and the benchmark share it.

Standard library only: each peer's driver imports it from its own virtual environment.
A driver prints one JSON object per line, each a row made by `row()`.
"""

import json
import platform
import time
from importlib.metadata import version

MIN_SECONDS = 0.2  # quicker calls are repeated until they add up to this (0: one call after the warm-up)
LONG_SECONDS = 2.0  # a first call this long is the measurement: start-up costs are lost in it


def measure(run):
    """Call `run()` and return (what its last call returned, seconds per call).

    The first call is a warm-up (lazy imports, first-call caches) unless it takes
    LONG_SECONDS or more, when it is the measurement. After a warm-up, calls run until
    they add up to MIN_SECONDS, and their mean is the time. Only the exploration is
    inside the timer: interpreter start-up and imports are not.
    """
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    if seconds >= LONG_SECONDS:
        return outcome, seconds
    calls, total = 0, 0.0
    while calls == 0 or total < MIN_SECONDS:
        started = time.perf_counter()
        outcome = run()
        total += time.perf_counter() - started
        calls += 1
    return outcome, total / calls


def row(tool, mode, scenario, run):
    """Measure `run`, which returns {"executions", "bug", "complete", "note"}, as one row.

    `bug` is True or False, or None when the run checks nothing (it only enumerates);
    `complete` is False when a budget stopped the search before it covered its space
    or found a failure.
    """
    outcome, seconds = measure(run)
    return {"tool": tool, "mode": mode, "scenario": scenario, "seconds": seconds, **outcome}


def about(tool, distribution):
    """The first line a driver prints: which release of the tool, on which Python."""
    emit({"tool": tool, "version": version(distribution), "python": platform.python_version()})


def emit(result):
    print(json.dumps(result), flush=True)


def outcome(executions, bug, complete=True, note=""):
    return {"executions": executions, "bug": bug, "complete": complete, "note": note}
