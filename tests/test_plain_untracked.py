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
