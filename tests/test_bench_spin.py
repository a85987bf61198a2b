"""benchmarks/bench_spin.py: its Promela models say what its scenarios do, step for step, and SPIN agrees.

The model's text and its steps are checked without SPIN; what needs SPIN (Debian's package `spin`, and
gcc) is skipped where it is absent. Nothing here runs explorer for long: the whole file takes seconds.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import explore

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_spin.py"

needs_spin = pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None,
                                reason="SPIN is not installed (apt-get install -y spin)")


def load_bench_spin():
    spec = importlib.util.spec_from_file_location("bench_spin", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


bench = load_bench_spin()


def taken_steps(factory):
    """The (kind, target) of every step a thread body yields, run alone, each read seeing 0."""
    generator, taken, sent = factory(), [], None
    while True:
        try:
            step = generator.send(sent)
        except StopIteration:
            return taken
        taken.append((step.kind, step.target))
        sent = 0 if step.kind == "read" else None


@pytest.mark.parametrize("key", sorted(bench.ROWS))
def test_each_rows_steps_are_the_steps_its_explorer_threads_take(key):
    row = bench.ROWS[key]
    scenario = bench.scenario(row)
    assert {name: taken_steps(factory) for name, factory in scenario.threads.items()} == bench.steps(row)


def test_counter_threads_share_one_function_object_so_symmetry_can_see_them():
    threads = bench.scenario(bench.ROWS["counter-4x3"]).threads
    assert len({id(factory) for factory in threads.values()}) == 1


def test_the_counter_model_is_one_promela_statement_per_step_and_a_monitor():
    model = bench.promela(bench.Row("counter-2x2", "counter", 2, 2))
    thread = ("    byte v;\n    v = x;\n    atomic { x = v + 1; v = 0 };\n    v = x;\n"
              "    atomic { x = v + 1; v = 0; finished++ }\n}")
    assert f"active proctype T0() {{\n{thread}" in model
    assert f"active proctype T1() {{\n{thread}" in model
    assert 'end: finished == 2 -> printf("FINAL %d\\n", x)' in model
    kept = bench.promela(bench.Row("counter-2x2", "counter", 2, 2), reset_locals=False)
    assert "v = 0" not in kept and "    atomic { x = v + 1; finished++ }" in kept


def test_the_philosophers_model_takes_each_fork_with_an_atomic_test_and_set():
    model = bench.promela(bench.ROWS["philosophers-3"])
    assert "bit fork_2 = 0;" in model
    assert ("active proctype P2() {\n    byte v;\n    atomic { fork_2 == 0 -> fork_2 = 1 };\n"
            "    atomic { fork_0 == 0 -> fork_0 = 1 };\n    v = meals;\n"
            "    atomic { meals = v + 1; v = 0 };\n"
            "    fork_0 = 0;\n    atomic { fork_2 = 0; finished++ }\n}") in model


def test_only_a_complete_explorer_run_that_disagrees_with_a_complete_spin_run_fails_the_benchmark():
    spin = {"finals": [2, 3, 4], "deadlock": False, "complete": True}
    agrees = {"finals": [2, 3, 4], "deadlock": False, "complete": True}
    assert bench.verdict(spin, agrees) == ("yes", False)
    assert bench.verdict(spin, {**agrees, "deadlock": True})[1] is True
    assert bench.verdict(spin, {**agrees, "finals": [3, 4]})[1] is True
    stopped = {**agrees, "finals": [3, 4], "complete": False}
    assert bench.verdict(spin, stopped) == ("- (explorer incomplete)", False)
    assert bench.verdict({**spin, "complete": False}, agrees)[1] is False


@needs_spin
@pytest.mark.parametrize("key", sorted(bench.ROWS))
def test_spin_accepts_every_rows_model(key, tmp_path):
    (tmp_path / "model.pml").write_text(bench.promela(bench.ROWS[key]))
    done = subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0 and (tmp_path / "pan.c").exists(), done.stdout + done.stderr


@needs_spin
def test_spin_finds_the_lost_meals_and_the_deadlock_that_explorer_finds():
    row = bench.Row("philosophers-4", "philosophers", 4)  # one pan build: gcc takes most of a second
    spin = bench.run_spin(row)
    assert (spin["finals"], spin["deadlock"], spin["complete"]) == ([2, 3, 4], True, True)
    result = explore(bench.scenario(row), strategy="dpor")
    assert sorted({dict(state)["meals"] for state in result.final_states}) == [2, 3, 4]
    assert result.deadlocked > 0
