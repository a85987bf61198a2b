"""The public API is small and exported once; the README's tutorial runs as written."""

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import explorer

ROOT = Path(__file__).parent.parent


def test_every_public_name_is_exported_exactly_once_and_exists():
    assert len(explorer.__all__) == len(set(explorer.__all__))
    for name in explorer.__all__:
        assert getattr(explorer, name) is not None, name


def test_the_contract_names_from_the_issues_are_public():
    for name in ["Scenario", "explore", "replay", "read", "write", "acquire", "release"]:
        assert name in explorer.__all__


def test_the_readme_tutorial_produces_the_output_it_shows():
    failures, tried = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                                       optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 10 and failures == 0


def test_the_scenario_language_page_runs_as_written():
    failures, tried = doctest.testfile(str(ROOT / "docs" / "scenario-language.md"), module_relative=False,
                                       optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 40 and failures == 0


def test_the_scenario_language_page_has_a_running_example_of_every_kind_and_step():
    examples = "\n".join(line for line in (ROOT / "docs" / "scenario-language.md").read_text().splitlines()
                         if line.startswith((">>> ", "... ")))
    for name in ["Semaphore(", "BoundedSemaphore(", "Condition(", "Event()", "Barrier(", "Queue(", "ThreadPool(",
                 "locks=", "update(", "acquire(", "release(", "wait(", "notify(", "set_event(", "get(", "put(",
                 "spawn(", "join(", "submit(", "result(", "shutdown("]:
        assert name in examples, name


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_cli_explores_a_file_and_exits_zero_when_nothing_is_wrong():
    done = run_cli("run", "scenarios/counter.py", "-k", "locked")
    assert done.returncode == 0, done.stderr
    assert "scenario 'locked counter': 2 executions (2 completed)" in done.stdout


def test_the_cli_exits_one_when_a_scenario_has_an_error_finding():
    assert run_cli("run", "scenarios/counter.py", "--ignore-expect").returncode == 1  # the lost update
    done = run_cli("run", "scenarios/abba.py", "-k", "deadlock", "--ignore-expect")
    assert done.returncode == 1
    assert "Cycle: A -> B -> A" in done.stdout and "ABBA fixed" not in done.stdout


def test_the_cli_reports_a_file_that_fails_to_import_and_carries_on(tmp_path):
    (tmp_path / "broken.py").write_text("raise ImportError('no such thing')\n")
    (tmp_path / "fine.py").write_text((ROOT / "scenarios" / "counter.py").read_text())
    done = run_cli("run", str(tmp_path))
    assert done.returncode == 2
    assert "broken.py: cannot load: ImportError: no such thing" in done.stderr
    assert "4 executions" in done.stdout  # dpor: one per trace


def test_the_cli_lists_scenarios_one_per_line():
    done = run_cli("list", "scenarios/lock_twice.py")
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 2 and "'RLock acquired twice'" in done.stdout


def test_the_benchmark_script_runs_and_its_counts_match_their_closed_forms():
    done = subprocess.run([sys.executable, "benchmarks/bench_explore.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "COUNT MISMATCH" not in done.stdout and "counter 3x1" in done.stdout


def test_the_state_graph_benchmark_counts_one_path_per_explored_execution():
    done = subprocess.run([sys.executable, "benchmarks/bench_state_graph.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MISMATCH" not in done.stdout and "dining philosophers, 3" in done.stdout


@pytest.mark.slow  # a benchmark script end to end: the deep tier
def test_the_lessons_benchmark_runs_and_dpor_agrees_with_exhaustive_on_every_lesson():
    done = subprocess.run([sys.executable, "benchmarks/bench_lessons.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MISMATCH" not in done.stdout and "three threads started and joined" in done.stdout


def test_the_strategies_benchmark_finds_dpor_at_one_execution_per_trace():
    done = subprocess.run([sys.executable, "benchmarks/bench_strategies.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "counter 4x1" in done.stdout and "1.00" in done.stdout
