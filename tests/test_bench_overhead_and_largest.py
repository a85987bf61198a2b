"""benchmarks/bench_overhead.py and bench_largest.py: their quick runs print the known counts and a
size for every strategy and family. Speed itself is only ever reported, never asserted."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.strategies import SAMPLING, STRATEGIES

ROOT = Path(__file__).resolve().parent.parent

#: (scenario, strategy) -> (executions, steps) that bench_overhead.py --quick must print.
KNOWN = {
    ("counter 3x1", "exhaustive"): (90, 540),
    ("counter 3x1", "dpor"): (36, 216),
    ("counter 3x1", "bounded"): (60, 360),
    ("counter 3x1", "random"): (1000, 6000),
    ("counter 3x1", "pct"): (1000, 6000),
    ("independent 2x4", "exhaustive"): (70, 560),
    ("independent 2x4", "dpor"): (1, 8),
    ("independent 2x4", "bounded"): (26, 208),
    ("independent 2x4", "random"): (1000, 8000),
    ("philosophers 3", "exhaustive"): (234, 3438),
    ("philosophers 3", "dpor"): (7, 93),
    ("philosophers 3", "bounded"): (168, 2448),
    ("indexer(12)", "dpor"): (8, 1608),
}


def run(*args):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow  # a benchmark script end to end: the deep tier
def test_the_overhead_benchmark_prints_the_known_counts_and_a_figure_for_every_part():
    out = run("benchmarks/bench_overhead.py", "--quick")
    rows = {}
    for line in out.splitlines():
        match = re.match(r"(counter 3x1|independent 2x4|philosophers 3|indexer\(12\)) +(\w+) +([\d,]+) +([\d,]+) "
                         r"+((?:-?\d+ +){4})([\d,]+) +((?:-?\d+ +){5})([\d.]+)x(?:  \(.*\))?$", line)
        if match:
            scenario, strategy, executions, steps = match.group(1, 2, 3, 4)
            rows[scenario, strategy] = (int(executions.replace(",", "")), int(steps.replace(",", "")))
    assert "COUNT MISMATCH" not in out
    assert {key: rows.get(key) for key in KNOWN} == KNOWN
    assert {strategy for scenario, strategy in rows if scenario == "counter 3x1"} == set(STRATEGIES)
    assert "load average" in out


def test_the_profile_shows_the_engine_strategy_detectors_and_user_code_apart():
    out = run("benchmarks/bench_overhead.py", "--quick", "--profile", "exhaustive")
    assert "counter 3x1, exhaustive: 90 executions, 540 steps" in out
    assert "ncalls  tottime" in out
    parts = re.findall(r"^  (.+?) +[\d.]+ s +[\d.]+%$", out, re.MULTILINE)
    assert {"engine", "search loop", "strategy", "detectors", "user code (thread bodies, step objects)"} <= set(parts)


@pytest.mark.slow  # a benchmark script end to end: the deep tier
def test_the_largest_size_benchmark_prints_a_size_for_every_complete_strategy_and_family():
    out = run("benchmarks/bench_largest.py", "--quick")
    table = [line for line in out.splitlines() if line.startswith("| ")]
    header, *rows = table
    assert header.startswith("| strategy | counter: ") and "lastzero: " in header
    cells = {row.split(" | ")[0][2:]: row.strip("| ").split(" | ")[1:] for row in rows}
    assert set(cells) == set(STRATEGIES)
    for strategy, row in cells.items():
        assert len(row) == 2
        for cell in row:
            if strategy in SAMPLING:
                assert re.fullmatch(r"n/a \(samples: [\d,]+ exec/s at n=\d+\)", cell), cell
            else:
                assert re.fullmatch(r"(>= )?\d+ \([\d,]+ exec, [\d.]+ s\)", cell), cell


def load_bench_largest():
    spec = importlib.util.spec_from_file_location("bench_largest", ROOT / "benchmarks" / "bench_largest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_largest_size_search_steps_by_one_where_times_multiply_and_at_most_doubles_elsewhere():
    next_size = load_bench_largest().next_size
    assert next_size([(4, 0.2), (5, 5.0)], 60, 1024) == 6  # the counter: 25 times per size
    assert next_size([(5, 0.002)], 60, 1024) == 10  # too fast to time
    assert next_size([(2, 0.001), (3, 0.01)], 60, 1024) == 4  # too fast to read a trend from
    assert next_size([(100, 0.02), (101, 0.021)], 60, 1024) == 202  # slow growth, still short: double
    jump = next_size([(100, 0.4), (110, 0.5)], 60, 1024)  # growing as a low power of the size
    assert 110 < jump <= 220
    assert next_size([(100, 0.4), (110, 0.5)], 60, 150) == 150  # never past the cap


def test_each_plain_program_and_its_generator_twin_make_the_same_executions_of_the_same_steps():
    spec = importlib.util.spec_from_file_location("bench_overhead", ROOT / "benchmarks" / "bench_overhead.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from explorer import explore

    for plain, twin in ((bench.plain_counter(2), bench.twin_counter(2)),
                        (bench.plain_database(2), bench.twin_database(2))):
        for strategy in ("exhaustive", "dpor"):
            ours, theirs = explore(plain, strategy=strategy), explore(twin, strategy=strategy)
            assert (ours.executions, ours.steps) == (theirs.executions, theirs.steps), (plain.name, strategy)
            assert "lost-update" in {finding.kind for finding in ours.findings}
            assert "lost-update" in {finding.kind for finding in theirs.findings}
