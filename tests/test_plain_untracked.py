"""The opt-in check for plain programs' blind spot: shared state written by several
threads that is not tracked, with the ``track=`` to add."""

import threading

import explorer
from scenarios.seed_notebook import FakeDatabase, update_cell

HITS = 0


class Stats:
    def __init__(self):
        self.calls = 0


class Settings:
    def __init__(self):
        self.mode = "fast"


def bump(stats):
    global HITS
    HITS = HITS + 1
    stats.calls = stats.calls + 1


def bumped_by_two_threads():
    stats = Stats()
    settings = Settings()  # written by main only: not shared state worth reporting
    settings.mode = "slow"
    workers = [threading.Thread(target=bump, args=(stats,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_an_untracked_attribute_written_by_two_threads_is_listed_with_the_track_to_add():
    found = explorer.untracked(explorer.program("FakeDatabase.update", update_cell))
    assert [(entry.kind, entry.owner, entry.name, entry.fix) for entry in found] == [
        ("attribute", "FakeDatabase", "value", "add track=[FakeDatabase]")]
    assert len(found[0].threads) == 3  # main's __init__ and both tasks
    assert "seed_notebook.py:" in found[0].location


def test_a_tracked_class_is_no_longer_listed():
    assert explorer.untracked(explorer.program("tracked", update_cell, track=[FakeDatabase])) == []


def test_globals_and_attributes_written_by_several_threads_are_listed_and_state_written_by_one_is_not():
    found = explorer.untracked(explorer.program("bumps", bumped_by_two_threads))
    assert {(entry.kind, entry.name) for entry in found} == {("attribute", "calls"), ("global", "HITS")}
    (global_,) = [entry for entry in found if entry.kind == "global"]
    assert global_.threads == ("Thread-1 (bump)", "Thread-2 (bump)")
    assert "move HITS into an object of a tracked class" in str(global_)


def test_untracked_refuses_a_generator_scenario():
    scenario = explorer.Scenario("g", variables={"x": 0}, threads={"A": lambda: iter(())})
    try:
        explorer.untracked(scenario)
    except TypeError as error:
        assert "explorer.program" in str(error)
    else:
        raise AssertionError("untracked() accepted a generator scenario")


def test_explorer_run_untracked_lists_the_blind_spot_of_a_plain_program(tmp_path, capsys, monkeypatch):
    from explorer.cli import main

    (tmp_path / "bumps_program.py").write_text(
        "import threading\n"
        "import explorer\n"
        "class Stats:\n"
        "    def __init__(self):\n"
        "        self.n = 0\n"
        "def bump(stats):\n"
        "    stats.n = stats.n + 1\n"
        "def main():\n"
        "    stats = Stats()\n"
        "    workers = [threading.Thread(target=bump, args=(stats,)) for _ in range(2)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for worker in workers:\n"
        "        worker.join()\n"
        "scenario = explorer.program('bumps', main)\n")
    monkeypatch.chdir(tmp_path)
    main(["run", "bumps_program.py", "-q", "--untracked"])
    out = capsys.readouterr().out
    assert "attribute Stats.n is written by main, Thread-1 (bump), Thread-2 (bump)" in out
    assert "add track=[Stats]" in out


GLOBAL_COUNTER = (
    "import threading\n"
    "import explorer\n"
    "counter = 0\n"
    "def work():\n"
    "    global counter\n"
    "    for _ in range(2):\n"
    "        counter += 1\n"
    "def main():\n"
    "    workers = [threading.Thread(target=work) for _ in range(2)]\n"
    "    for worker in workers:\n"
    "        worker.start()\n"
    "    for worker in workers:\n"
    "        worker.join()\n"
    "scenario = explorer.program('global counter', main)\n")


def test_explorer_run_warns_without_being_asked_that_a_global_counter_was_not_explored(tmp_path, capsys, monkeypatch):
    # the tutorial's race (`global counter; counter += 1` in two threads) has no step to
    # interleave: the run must not look like a clean bill of health
    from explorer.cli import main

    (tmp_path / "global_counter.py").write_text(GLOBAL_COUNTER)
    monkeypatch.chdir(tmp_path)
    main(["run", "global_counter.py"])
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "[untracked]" in line]
    assert line.startswith("  WARNING [untracked] global counter is written by Thread-1 (work), Thread-2 (work) "
                           "(first at global_counter.py:7) but not tracked, so no interleaving")
    assert "move counter into an object of a tracked class" in line


def test_explorer_run_says_nothing_of_untracked_state_where_every_shared_write_is_tracked(tmp_path, capsys,
                                                                                          monkeypatch):
    from explorer.cli import main

    (tmp_path / "tracked_counter.py").write_text(
        "import threading\n"
        "import explorer\n"
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.n = 0\n"
        "def work(counter):\n"
        "    counter.n += 1\n"
        "def main():\n"
        "    counter = Counter()\n"
        "    workers = [threading.Thread(target=work, args=(counter,)) for _ in range(2)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for worker in workers:\n"
        "        worker.join()\n"
        "scenario = explorer.program('tracked counter', main, track=[Counter])\n")
    monkeypatch.chdir(tmp_path)
    main(["run", "tracked_counter.py"])
    out = capsys.readouterr().out
    assert "[lost-update]" in out
    assert "untracked" not in out


def test_a_quick_look_that_runs_out_of_time_says_so_instead_of_finding_nothing(tmp_path, capsys, monkeypatch):
    # under the opcode tracer a loop of plain Python work is slow: the look is cut off before
    # the write, and silence would read as "nothing untracked"
    from explorer import cli

    (tmp_path / "slow_counter.py").write_text(GLOBAL_COUNTER.replace(
        "    for _ in range(2):\n        counter += 1\n",
        "    total = 0\n    for i in range(300_000):\n        total += i\n    counter += 1\n"))
    monkeypatch.setattr(cli, "QUICK_UNTRACKED_SECONDS", 0.1)
    monkeypatch.chdir(tmp_path)
    cli.main(["run", "slow_counter.py"])
    out = capsys.readouterr().out
    assert "[untracked]" not in out
    assert ("  note: the quick look for untracked shared state (globals and attributes several threads "
            "write, which are no steps) ran out of its 0.1 s: run with --untracked for the full check") in out


def test_no_quick_look_follows_an_exploration_cut_short(tmp_path, capsys, monkeypatch):
    from explorer.cli import main

    # a thread that spins after its write stops the exploration at its step timeout: the
    # look would spin there too
    (tmp_path / "spinning_counter.py").write_text(GLOBAL_COUNTER.replace(
        "        counter += 1\n", "        counter += 1\n    while True:\n        pass\n"))
    monkeypatch.chdir(tmp_path)
    main(["run", "spinning_counter.py", "--step-timeout", "0.2"])
    out = capsys.readouterr().out
    assert "INCOMPLETE: stopped because a step ran past step_timeout" in out and "untracked" not in out


# SIGINT only under the quick look's tracer, as Ctrl-C pressed while it runs
CTRL_C_IN_THE_LOOK = GLOBAL_COUNTER.replace("import threading\n", "import signal, sys, threading\n").replace(
    "    global counter\n", "    global counter\n    if sys.gettrace() is not None:\n"
                            "        signal.raise_signal(signal.SIGINT)\n")


def test_ctrl_c_during_the_quick_look_stops_explorer_run_with_130(tmp_path):
    import subprocess
    import sys

    (tmp_path / "a_interrupted.py").write_text(CTRL_C_IN_THE_LOOK)
    (tmp_path / "b_next.py").write_text(GLOBAL_COUNTER.replace("global counter'", "next'"))
    done = subprocess.run([sys.executable, "-m", "explorer", "run", "a_interrupted.py", "b_next.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 130, done.stdout + done.stderr
    assert "interrupted (Ctrl-C)" in done.stderr
    assert "scenario 'next'" not in done.stdout  # nothing after it was explored


class Flag:
    def __init__(self):
        self.state = "off"


def switch_on(flag):
    flag.state = "on"  # one call in the whole look: its code runs nowhere else


def switch_off(flag):
    value = "off"
    flag.state = value  # a local and the target loaded together (3.13: LOAD_FAST_LOAD_FAST)


def switched_by_two_functions():
    flag = Flag()
    workers = [threading.Thread(target=switch_on, args=(flag,)), threading.Thread(target=switch_off, args=(flag,))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_a_write_in_code_that_runs_once_is_seen_on_its_first_call():
    found = explorer.untracked(explorer.program("flag", switched_by_two_functions), executions=1)
    assert [(entry.kind, entry.owner, entry.name, sorted(entry.threads)) for entry in found] == [
        ("attribute", "Flag", "state", ["Thread-1 (switch_on)", "Thread-2 (switch_off)", "main"])]
