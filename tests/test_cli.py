"""The ``explorer`` command, run as a user runs it: a subprocess, its exit status and its files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import explore, load_trace, replay
from scenarios import counter

ROOT = Path(__file__).parent.parent


def explorer(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_exit_status_is_zero_without_error_findings_one_with_them_and_two_for_a_missing_file():
    assert explorer("run", "scenarios/counter.py", "-k", "locked").returncode == 0
    assert explorer("run", "scenarios/counter.py", "--ignore-expect").returncode == 1
    missing = explorer("run", "no/such/file.py")
    assert missing.returncode == 2 and "no/such/file.py" in missing.stderr


def test_json_output_holds_every_result_with_the_counts_explore_gives(tmp_path):
    done = explorer("run", "scenarios/counter.py", "--json", tmp_path / "run.json", "-q", "--ignore-expect")
    assert done.returncode == 1
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["format"] == "explorer-run"
    by_name = {r["scenario"]["name"]: r for r in document["results"]}
    assert by_name["lost update"]["counts"]["executions"] == explore(counter.lost_update).executions == 4
    assert by_name["locked counter"]["findings"] == []


def test_saved_traces_replay_from_the_command_line_and_from_python(tmp_path):
    explorer("run", "scenarios/counter.py", "-k", "lost", "--save-trace", tmp_path)
    saved = sorted(tmp_path.glob("*.json"))
    assert saved[0].name == "lost-update-0-lost-update.json"
    shown = explorer("replay", "scenarios/counter.py", "--trace", saved[0])
    assert shown.returncode == 1 and "<- lost write" in shown.stdout
    assert replay(counter.lost_update, load_trace(saved[0])).final_state == {"x": 1}


def test_a_finding_of_a_json_run_file_replays_by_position(tmp_path):
    explorer("run", "scenarios/counter.py", "--json", tmp_path / "run.json")
    shown = explorer("replay", "scenarios/counter.py", "--trace", tmp_path / "run.json", "--finding", "1")
    assert shown.returncode == 1 and "nonserializable" in shown.stdout


def test_a_broken_trace_file_is_refused_with_exit_two_and_never_run(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "explorer-trace", "version": 99, "trace": {}}')
    refused = explorer("replay", "scenarios/counter.py", "--trace", bad)
    assert refused.returncode == 2 and "version" in refused.stderr


def test_graphs_are_written_as_dot_graphml_and_svg(tmp_path):
    explorer("run", "scenarios/abba.py", "-k", "deadlock", "--graph", tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"ABBA-deadlock-states.dot", "ABBA-deadlock-states.graphml", "ABBA-deadlock-states.svg",
            "ABBA-deadlock-lock-order.svg"} <= names


def test_crosscheck_prints_the_outcome_table_and_exits_zero_when_the_model_holds(tmp_path):
    done = explorer("crosscheck", "scenarios/counter.py", "-k", "lost", "--runs", "300",
                    "--json", tmp_path / "check.json")
    assert done.returncode == 0, done.stderr
    assert "observed on real threads" in done.stdout and "no unexpected outcome" in done.stdout
    assert json.loads((tmp_path / "check.json").read_text())[0]["runs"] == 300


@pytest.mark.parametrize("command", ["run", "list", "replay", "crosscheck"])
def test_every_command_explains_itself_with_an_example(command):
    shown = explorer(command, "--help")
    assert shown.returncode == 0 and "example" in shown.stdout


def test_a_report_is_one_self_contained_page(tmp_path):
    done = explorer("run", "scenarios/counter.py", "-q", "--report", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert done.returncode == 0 and "<svg" in page and "lost update" in page
    assert "<script" not in page and 'src="http' not in page


LONG = '''
from scenarios.dining_philosophers import dining
philosophers = dining(4, ordered=False)
'''


def test_progress_is_reported_every_1024_executions():
    from explorer import Scenario, read, write

    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    seen = []
    five = Scenario("five", variables={"x": 0}, threads={t: increment for t in "ABCDE"})
    explore(five, max_executions=5000, progress=lambda executions, steps, seconds: seen.append(executions))
    assert seen == [1024, 2048, 3072, 4096]


def test_a_progress_line_shows_on_a_terminal_and_not_on_a_pipe(tmp_path):
    import os
    import pty

    (tmp_path / "long.py").write_text(LONG)
    command = [sys.executable, "-m", "explorer", "run", tmp_path / "long.py", "-q", "--max-executions", "30000",
               "--strategy", "exhaustive", "--ignore-expect"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    piped = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert "exploring:" not in piped.stderr and "INCOMPLETE" in piped.stdout
    leader, follower = pty.openpty()
    try:
        shown = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=follower, timeout=120,
                               env=env, check=False)
        os.set_blocking(leader, False)
        text = os.read(leader, 1 << 16).decode(errors="replace")
    finally:
        os.close(leader)
        os.close(follower)
    assert shown.returncode == 1 and "exploring: " in text and "executions/s" in text


def test_ctrl_c_prints_the_partial_result_marked_incomplete_and_exits_130(tmp_path):
    import os
    import signal
    import time

    (tmp_path / "long.py").write_text(LONG)
    # Unbuffered, so that the scenario's header line shows when exploring has begun: on a loaded
    # machine a fixed sleep could interrupt the interpreter's start-up instead of the search.
    process = subprocess.Popen([sys.executable, "-m", "explorer", "run", tmp_path / "long.py", "-q",
                                "--strategy", "exhaustive"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    try:
        header = process.stdout.readline()
        time.sleep(0.5)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=120)
        answered = time.monotonic() - interrupted
    finally:
        process.kill()
    assert header.endswith("long.py::philosophers\n")
    assert process.returncode == 130, err
    assert "INCOMPLETE: interrupted (Ctrl-C)" in rest and "interrupted" in err
    assert answered < 20  # half a second of grace to assemble the result; the rest is a loaded machine


def test_ctrl_c_during_a_crosscheck_stops_every_scenario_and_exits_130():
    # Found by a review: Ctrl-C ended the current scenario's runs, the next scenario ran
    # on, and the command exited 0
    import os
    import signal
    import time

    process = subprocess.Popen([sys.executable, "-m", "explorer", "crosscheck", "scenarios/counter.py",
                                "--runs", "100000000"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    try:
        header = process.stdout.readline()
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert header.startswith("scenarios/counter.py::")
    assert process.returncode == 130, err
    assert "STOPPED EARLY: interrupted (Ctrl-C)" in rest and "scenarios/counter.py::" not in rest


def test_a_reader_that_stops_early_gets_no_traceback():
    done = subprocess.run(f"{sys.executable} -m explorer run scenarios/ | head -1", shell=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_clean_but_incomplete_run_exits_three_not_zero():
    # A budget, a bound or a sample proves no absence of bugs, so it must not look like a pass.
    budget_cut = explorer("run", "scenarios/counter.py", "-k", "locked", "--strategy", "exhaustive",
                          "--max-executions", "1")
    assert budget_cut.returncode == 3 and "INCOMPLETE" in budget_cut.stdout
    sampled = explorer("run", "scenarios/counter.py", "-k", "locked", "--strategy", "random", "--max-executions", "5")
    assert sampled.returncode == 3
    assert explorer("run", "scenarios/counter.py", "-k", "locked").returncode == 0
    found = explorer("run", "scenarios/counter.py", "-k", "lost", "--strategy", "random", "--max-executions", "50",
                     "--ignore-expect")
    assert found.returncode == 1 and "INCOMPLETE" in found.stdout  # an error finding wins


def test_a_polling_loops_replay_line_counts_its_repeats_and_keeps_the_runs_max_steps(tmp_path):
    (tmp_path / "polling.py").write_text("from tests.helpers import POLLING as polling\n")
    done = explorer("run", tmp_path / "polling.py", "--max-steps", "30")
    assert done.returncode == 1
    assert "1-30  read flag -> 0 (30 times)" in done.stdout
    line = next(line for line in done.stdout.splitlines() if "--schedule 'A*30'" in line)
    assert line.strip().endswith("--schedule 'A*30' --max-steps 30")
    again = explorer("replay", f"{tmp_path / 'polling.py'}::polling", "--schedule", "A*30", "--max-steps", "30")
    assert again.returncode == 1 and "truncated, 30 steps" in again.stdout
    mixed = explorer("replay", f"{tmp_path / 'polling.py'}::polling", "--schedule", "A*2, B,A")
    assert mixed.returncode == 0 and "execution of 'polling': completed, 4 steps" in mixed.stdout
    huge = explorer("replay", f"{tmp_path / 'polling.py'}::polling", "--schedule", "A*99999999999", timeout=30)
    assert huge.returncode == 2 and huge.stderr.startswith("explorer: --schedule: 'A*99999999999' makes the "
                                                           "schedule 99,999,999,999 steps long, more than")


@pytest.mark.parametrize(("options", "said"), [
    (["--max-states", "5"], "--max-states is an option of --strategy stateful or auto, not dpor"),
    (["--no-symmetry", "--strategy", "bounded"], "--no-symmetry is an option of --strategy stateful or auto, not bounded"),
    (["--preemptions", "3"], "--preemptions is an option of --strategy bounded, not dpor"),
    (["--strategy", "stateful", "--max-states", "0"], "--max-states: expected a whole number of at least 1, got '0'"),
    (["--strategy", "pct", "--depth", "0"], "--depth: expected a whole number of at least 1, got '0'"),
    (["--max-executions", "0"], "--max-executions: expected a whole number of at least 1, got '0'"),
    (["--max-steps", "-3"], "--max-steps: expected a whole number of at least 1, got '-3'"),
    (["--time-limit", "nan"], "--time-limit: expected a number of seconds above 0, got 'nan'"),
    (["--time-limit", "0"], "--time-limit: expected a number of seconds above 0, got '0'"),
    (["--step-timeout", "0"], "--step-timeout: expected a number of seconds above 0, or none, got '0'"),
    (["--backend", "ray"], "--backend ray runs -j's workers: give -j N (2 or more) or -j auto"),
    (["--json", "-", "--report", "-"], "--json - and --report - would both write to standard output"),
])
def test_a_strategy_option_that_cannot_apply_is_refused_once_by_its_flag_before_any_scenario(options, said):
    # it was refused by every scenario of the folder in turn, each time in explore()'s words
    done = subprocess.run([sys.executable, "-m", "explorer", "run", "scenarios/", *options],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert said in done.stderr and done.stderr.count("error") == 1
