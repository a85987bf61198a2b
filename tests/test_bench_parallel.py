"""benchmarks/bench_parallel.py: its scaling model adds up, and its quick run compares the
parallel result with the serial one (the figures themselves are the benchmark's, not a test's)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_parallel.py"


def load():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_parallel", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_model_spreads_units_over_workers_and_queues_them_at_the_coordinator():
    bench = load()
    # four one-second units on two workers, a free coordinator: two seconds
    assert bench.makespan([1.0] * 4, 2, 0.0, 0.0) == (2.0, 0.0)
    # a coordinator that takes a second per unit is the limit, whatever the workers
    seconds, busy = bench.makespan([0.1] * 10, 100, 0.0, 1.0)
    assert seconds == 10.1 and busy > 0.99
    # the overhead of each task counts on its worker
    assert bench.makespan([1.0, 1.0], 1, 0.5, 0.0)[0] == 3.0


def test_the_quick_run_of_a_row_says_the_parallel_result_is_the_serial_one(tmp_path):
    figures = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--rows", "exhaustive,dpor-last",
                           "--json", str(figures)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("exhaustive"))
    assert row.endswith("yes") and "924/924" in row
    # lastzero(6) has 144 traces: dpor runs each once, serially and on the workers
    row = next(line for line in done.stdout.splitlines() if line.startswith("dpor-last"))
    assert row.endswith("yes") and "144/144" in row and "1.000" in row
    assert "load average at start" in done.stdout and "load average at end" in done.stdout
    # what the machine gives two processes that share nothing, and what the workers did together
    written = json.loads(figures.read_text())
    capacity = written["capacity"]
    assert len(capacity["together"]) == 2 and capacity["alone"] > 0
    assert abs(capacity["speedup"] - 2 * capacity["alone"] / (sum(capacity["together"]) / 2)) < 1e-9
    assert f"capacity: 2 processes at once ran {capacity['speedup']:.2f} times as fast as one" in done.stdout
    exhaustive = next(row for row in written["rows"] if row["row"] == "exhaustive")
    assert exhaustive["unit_seconds"] and exhaustive["steal"] >= 0
    assert abs(exhaustive["work"] - sum(exhaustive["unit_seconds"]) / exhaustive["serial"]) < 1e-9


def test_the_inline_run_cuts_each_row_into_units_in_one_process_and_counts_the_races_ranked(tmp_path):
    figures = tmp_path / "inline.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--inline", "--quick", "--rows", "exhaustive,random",
                           "--json", str(figures)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    written = {row["row"]: row for row in json.loads(figures.read_text())}
    assert written["exhaustive"]["units"] >= 2 and written["random"]["units"] >= 2  # really cut
    assert all(row["same"] for row in written.values())
    # counter 2x3's pairs, ranked serially until each has its witness, and at least as often in units
    assert 0 < written["exhaustive"]["ranked"][0] <= written["exhaustive"]["ranked"][1]
    row = next(line for line in done.stdout.splitlines() if line.startswith("exhaustive"))
    assert row.endswith("yes") and f"{written['exhaustive']['ranked'][0]:,}" in row
