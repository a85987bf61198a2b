"""The command line follows pytest's habits: --version, -k expressions, FILE::NAME, lessons
judged by their Expect, a closing line, colour only where it belongs, --json -, and a
replay hint that is a command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def explorer(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False, env=env)


def scenario_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("scenarios/") and "::" in line]


def test_version_prints_the_package_version():
    from explorer import __version__

    shown = explorer("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"explorer {__version__}"


def test_k_takes_not_and_or_as_pytest_does():
    assert scenario_lines(explorer("run", "scenarios/abba.py", "-q", "-k", "not gated").stdout) == [
        "scenarios/abba.py::abba_deadlock", "scenarios/abba.py::abba_ordered"]
    assert scenario_lines(explorer("run", "scenarios/", "-q", "-k", "counter and not locked").stdout) == [
        "scenarios/counter.py::lost_update"]
    both = explorer("run", "scenarios/", "-q", "-k", "(abba and gated) or lost_update").stdout
    assert scenario_lines(both) == ["scenarios/abba.py::abba_gated", "scenarios/counter.py::lost_update"]


def test_k_with_a_malformed_expression_is_refused_with_exit_two():
    refused = explorer("run", "scenarios/counter.py", "-k", "not (locked")
    assert refused.returncode == 2 and "never closed" in refused.stderr


def test_k_without_operators_still_matches_a_name_with_spaces():
    listed = explorer("list", "scenarios/counter.py", "-k", "lost update").stdout
    assert "'lost update'" in listed and "locked" not in listed


def test_file_double_colon_name_picks_one_scenario():
    shown = explorer("run", "scenarios/counter.py::locked_counter")
    assert scenario_lines(shown.stdout) == ["scenarios/counter.py::locked_counter"] and shown.returncode == 0


def test_file_double_colon_an_unknown_name_is_refused_with_the_names_there():
    refused = explorer("run", "scenarios/counter.py::lost")
    assert refused.returncode == 2
    assert ("scenarios/counter.py has no scenario named 'lost'; its scenarios are ['lost_update', "
            in refused.stderr)


def test_run_exits_zero_on_the_scenario_folder_because_every_lesson_shows_what_its_expect_says():
    done = explorer("run", "scenarios/", "-q")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "expect: holds (lost-update, nonserializable, race, as the scenario states)" in done.stdout
    assert "failed" not in done.stdout.splitlines()[-1]


def test_an_expect_that_does_not_hold_fails_the_run_and_says_what_differs(tmp_path):
    (tmp_path / "wrong.py").write_text(
        "from explorer import Expect, Scenario, read, write\n"
        "def inc():\n    v = yield read('x')\n    yield write('x', v + 1)\n"
        "wrong = Scenario('wrong lesson', variables={'x': 0}, threads={'A': inc, 'B': inc},\n"
        "                 expect=Expect(findings={'deadlock'}))\n")
    done = explorer("run", tmp_path / "wrong.py", "-q")
    assert done.returncode == 1
    assert ("expect: FAILS: findings: unexpected lost-update, nonserializable, race; missing deadlock"
            in done.stdout)


def test_ignore_expect_judges_the_raw_findings():
    assert explorer("run", "scenarios/counter.py", "-k", "lost", "--ignore-expect").returncode == 1
    assert explorer("run", "scenarios/counter.py", "-k", "lost").returncode == 0


def test_the_last_line_counts_scenarios_by_verdict_and_findings_by_severity():
    done = explorer("run", "scenarios/counter.py", "--ignore-expect")
    last = done.stdout.splitlines()[-1]
    assert last.startswith("== 2 scenarios: 1 failed, 1 passed; findings: 2 errors, 2 warnings; ")
    assert last.endswith("s ==")


def test_colour_only_on_request_or_a_terminal_and_never_with_no_color():
    plain = explorer("run", "scenarios/counter.py", "--ignore-expect")
    assert "\033[" not in plain.stdout  # a pipe
    forced = explorer("run", "scenarios/counter.py", "--ignore-expect", "--color", "yes")
    assert "\033[31;1mERROR\033[0m [lost-update]" in forced.stdout
    assert "\033[31;1mfailed\033[0m" in forced.stdout.splitlines()[-1]
    abba = explorer("run", "scenarios/lock_twice.py", "--color", "yes").stdout
    assert "which A itself holds (a plain Lock" in abba  # a word in a message is not a verdict
    assert "expect: \033[32mholds\033[0m" in abba


def test_no_color_turns_colour_off_on_a_terminal():
    import pty

    def on_a_terminal(env):
        leader, follower = pty.openpty()
        try:
            subprocess.run([sys.executable, "-m", "explorer", "run", "scenarios/counter.py", "-q"], cwd=ROOT,
                           stdout=follower, stderr=subprocess.DEVNULL, timeout=120, env=env, check=False)
            os.set_blocking(leader, False)
            return os.read(leader, 1 << 16).decode(errors="replace")
        finally:
            os.close(leader)
            os.close(follower)

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\033[32mpassed\033[0m" in on_a_terminal(env)
    assert "\033[" not in on_a_terminal({**env, "NO_COLOR": "1"})


def test_json_dash_writes_only_json_to_stdout_and_the_text_to_stderr(tmp_path):
    command = [sys.executable, "-m", "explorer", "run", ROOT / "scenarios/counter.py", "--json", "-"]
    done = subprocess.run(command,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    document = json.loads(done.stdout)
    assert document["format"] == "explorer-run" and len(document["results"]) == 2
    assert "[lost-update]" in done.stderr and "== 2 scenarios" in done.stderr
    assert not (tmp_path / "-").exists()


def test_the_printed_replay_hint_is_a_command_that_replays_the_finding():
    shown = explorer("run", "scenarios/counter.py::lost_update")
    hint = next(line.split("to replay: ", 1)[1] for line in shown.stdout.splitlines()
                if "to replay: " in line)
    assert hint == "explorer replay scenarios/counter.py::lost_update --schedule A,B,B,A"
    replayed = explorer(*hint.split()[1:])
    assert replayed.returncode == 1 and "[lost-update]" in replayed.stdout
    assert "outcome: x=1" in replayed.stdout


def test_replay_schedule_refuses_an_unknown_thread_and_an_ambiguous_file():
    unknown = explorer("replay", "scenarios/counter.py::lost_update", "--schedule", "A,C")
    assert unknown.returncode == 2 and "'C'" in unknown.stderr
    ambiguous = explorer("replay", "scenarios/counter.py", "--schedule", "A,B,B,A")
    assert ambiguous.returncode == 2 and "FILE::NAME" in ambiguous.stderr


def test_an_invariant_broken_by_several_outcomes_is_one_finding_listing_each_with_its_count(tmp_path):
    (tmp_path / "overdraft.py").write_text(
        "from functools import partial\n"
        "from explorer import Scenario, read, write\n"
        "def withdraw(amount):\n"
        "    balance = yield read('balance')\n"
        "    if balance < amount:\n        return 'refused'\n"
        "    balance = yield read('balance')\n"
        "    yield write('balance', balance - amount)\n"
        "def never_negative(state):\n    return state['balance'] >= 0\n"
        "overdraft = Scenario('overdraft', variables={'balance': 100},\n"
        "    threads={'alice': partial(withdraw, 70),\n"
        "    'bob': partial(withdraw, 70), 'carol': partial(withdraw, 20)}, invariant=never_negative)\n")
    shown = explorer("run", tmp_path / "overdraft.py", "-q").stdout
    assert shown.count("[invariant]") == 1
    assert "ERROR [invariant] invariant never_negative is broken by 2 outcomes:" in shown
    assert "balance=-40  (in 12 executions)" in shown and "balance=-60  (in 16 executions)" in shown


def test_outcome_shares_include_deadlocked_runs():
    shown = explorer("run", "scenarios/abba.py::abba_deadlock", "--strategy", "exhaustive").stdout
    rows = [line.split() for line in shown.splitlines()
            if line.strip().startswith(("moves=", "(deadlocked)"))]
    counts = {row[0]: int(row[1]) for row in rows}
    total = sum(counts.values())
    assert set(counts) == {"moves=2", "(deadlocked)"}
    for row in rows:
        assert row[2] == f"({int(row[1]) / total:.0%})"


def test_one_execution_is_singular():
    from explorer import Scenario, explore, write

    def alone():
        yield write("x", 1)

    assert explore(Scenario("one", variables={"x": 0}, threads={"A": alone})).summary().startswith(
        "1 execution (1 completed)")


@pytest.mark.parametrize("command", ["run", "list", "replay", "crosscheck"])
def test_every_option_of_every_command_has_help_text(command):
    from explorer.cli import _parser

    sub = _parser()._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
