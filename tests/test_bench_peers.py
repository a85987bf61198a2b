"""benchmarks/bench_peers.py: explorer's rows carry the known counts, and a missing peer is reported, not fatal.

Nothing here installs or runs a peer, and nothing reaches beyond this machine.
"""

import importlib.util
import json
import subprocess
import sys
from itertools import combinations
from math import factorial
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_peers.py"


def load_bench_peers():
    spec = importlib.util.spec_from_file_location("bench_peers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a benchmark script end to end: the deep tier
def test_the_explorer_only_run_reports_the_known_executions_and_bugs(tmp_path):
    written = tmp_path / "rows.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--explorer-only", "--quick", "--json", str(written)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)  # status checked below
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(written.read_text())["rows"]
    found = {(line["scenario"], line["mode"]): (line["executions"], line["bug"]) for line in rows}
    assert found == {
        ("counter 2x1", "exhaustive"): (6, True), ("counter 2x1", "dpor"): (4, True),
        ("counter 3x1", "exhaustive"): (90, True), ("counter 3x1", "dpor"): (36, True),
        ("locked counter", "exhaustive"): (2, False), ("locked counter", "dpor"): (2, False),
        ("ABBA deadlock", "exhaustive"): (6, True), ("ABBA deadlock", "dpor"): (3, True),
        ("counter 2x3", "exhaustive"): (924, True), ("counter 2x3", "dpor"): (two_thread_counter_traces(3), True),
        ("counter 2x4", "exhaustive"): (12_870, True), ("counter 2x4", "dpor"): (two_thread_counter_traces(4), True),
    }
    assert {line["tool"] for line in rows} == {"explorer"}
    assert all(line["seconds"] > 0 and line["complete"] for line in rows)
    fixed = json.loads(written.read_text())["explorer fixed cost"]
    assert 0 < fixed["floor"] and 0 < fixed["after the search"] < fixed["call"]
    assert "| counter 2x1    | explorer | exhaustive |" in done.stdout
    assert "explorer's fixed cost per explore() call: " in done.stdout
    # the plain-code rows: every one finds the lost update; dpor runs the Mazurkiewicz traces
    # of its generator twin (a read and a write of one attribute per thread), exhaustive more
    plain = {(line["scenario"], line["mode"]): line for line in json.loads(written.read_text())["plain rows"]}
    assert all(line["bug"] and line["complete"] and line["tool"] == "explorer" for line in plain.values())
    for scenario, threads in (("Counter (frontrun README)", 2), ("FakeDatabase 2 threads", 2),
                              ("FakeDatabase 3 threads", 3)):
        assert plain[scenario, "dpor"]["executions"] == found[f"counter {threads}x1", "dpor"][0]
        assert plain[scenario, "exhaustive"]["executions"] > plain[scenario, "dpor"]["executions"]
    cell = "notebook cell (executor), "
    assert plain["FakeDatabase 2 threads", cell + "exhaustive"]["executions"] > \
        plain["FakeDatabase 2 threads", cell + "dpor"]["executions"]


def two_thread_counter_traces(increments):
    """Mazurkiewicz traces of two threads each reading then writing x `increments` times, without explorer:
    an interleaving's trace is which of each cross-thread pair of steps, one a write, comes first."""
    steps = ["read", "write"] * increments
    n = len(steps)
    traces = set()
    for firsts in combinations(range(2 * n), n):  # the positions of thread 0's steps
        seconds = [position for position in range(2 * n) if position not in firsts]
        traces.add(frozenset((i, j) for i in range(n) for j in range(n)
                             if "write" in (steps[i], steps[j]) and firsts[i] < seconds[j]))
    return len(traces)


def test_the_trace_count_agrees_with_the_closed_form_for_one_increment():
    assert two_thread_counter_traces(1) == factorial(2) ** 2  # bench_strategies.py's (n!)^2 for n threads


def test_a_peer_row_gets_explorers_ratios_and_a_budget_cut_count_ends_in_plus():
    bench = load_bench_peers()
    rows = [
        {"tool": "explorer", "mode": "exhaustive", "scenario": "s", "seconds": 0.001, "executions": 6,
         "bug": True, "complete": True, "note": ""},
        {"tool": "explorer", "mode": "dpor", "scenario": "s", "seconds": 0.001, "executions": 4,
         "bug": True, "complete": True, "note": ""},
        {"tool": "peer", "mode": "dfs", "scenario": "s", "seconds": 2.0, "executions": 200,
         "bug": None, "complete": False, "note": "budget hit"},
    ]
    header, *_, peer = bench.table(rows)
    assert dict(zip(header, peer)) == {
        "scenario": "s", "tool": "peer", "mode": "dfs", "executions": "200+", "seconds": "2.0000",
        "exec/s": "100", "bug found": "not checked", "rate ratio": "60x", "dpor vs": "4 vs 200+"}


def test_a_peer_whose_python_is_missing_is_reported_as_not_installed(tmp_path, monkeypatch):
    bench = load_bench_peers()
    monkeypatch.setattr(bench, "HERE", tmp_path)
    monkeypatch.setattr(bench, "VENVS", tmp_path / ".venvs")
    (tmp_path / "requirements-peers-no-such-peer.txt").write_text("no-such-peer==1.0\n")
    rows, said = bench.peer_rows(bench.Peer("no-such-peer", "2.1", ("python",), "no_driver.py"))
    assert rows == []
    assert said == {"tool": "no-such-peer", "error": "not installed: no Python 2.1 (try: pyenv install 2.1)"}
    assert not (tmp_path / ".venvs").exists()


def test_a_plain_code_row_of_explorer_gets_its_rate_over_frontruns_in_each_mode():
    bench = load_bench_peers()
    scenario = "FakeDatabase 2 threads"
    line = {"scenario": scenario, "bug": True, "complete": True, "note": ""}
    rows = [{**line, "tool": "explorer", "mode": "exhaustive", "seconds": 0.01, "executions": 69},
            {**line, "tool": "frontrun", "mode": "dpor (defaults)", "seconds": 0.06, "executions": 12},
            {**line, "tool": "frontrun", "mode": "dpor, every schedule", "seconds": 0.08, "executions": 16}]
    header, ours, *theirs = bench.plain_table(rows)
    assert dict(zip(header, ours)) == {
        "scenario": scenario, "tool": "explorer", "mode": "exhaustive", "executions": "69",
        "seconds": "0.0100", "exec/s": "6,900", "bug found": "yes", "x frontrun dpor (defaults)": "34.5x",
        "x frontrun dpor, every schedule": "34.5x"}
    assert [row[-2:] for row in theirs] == [["", ""], ["", ""]]
    alone = bench.plain_table(rows[:1])[1]  # --explorer-only: no frontrun to divide by
    assert alone[-2:] == ["-", "-"]
