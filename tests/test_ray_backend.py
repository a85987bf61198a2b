"""The Ray backend on a private Ray instance: units run, their futures settle, and close
stops everything it started. The tests that start Ray are skipped where it is not installed
(pip install 'explorer[ray]'); the one about a missing Ray runs everywhere."""

from __future__ import annotations

import operator
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from explorer.backends import ray as ray_backend
from explorer.backends.ray import MissingExtra, RayBackend, RayBackendError
from explorer.errors import InvalidArgument

linux_processes = pytest.mark.skipif(not Path("/proc").is_dir(), reason="the process checks read /proc")


@pytest.fixture
def ray():
    return pytest.importorskip("ray")


def test_without_ray_the_backend_says_how_to_install_it_and_bad_arguments_are_refused_first(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where Ray is not installed
    with pytest.raises(ImportError, match=r"pip install 'explorer\[ray\]'") as raised:
        RayBackend(workers=2, address=None)
    assert isinstance(raised.value, MissingExtra)
    for workers in (0, -1, 1.5, True, "2"):
        with pytest.raises(InvalidArgument, match="workers must be a positive whole number"):
            RayBackend(workers=workers, address=None)
    with pytest.raises(InvalidArgument, match="address must be a Ray address"):
        RayBackend(workers=2, address=6379)


def descendants() -> dict[int, str]:
    """Every live process below this one (zombies left out), with its command line."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue  # ended while we looked
        state, parent = stat.rpartition(")")[2].split()[:2]
        if state != "Z":
            parents[int(entry.name)] = int(parent)
    below, frontier = {}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for child in [p for p, q in parents.items() if q == parent]:
            below[child] = commands[child]
            frontier.append(child)
    return below


def still_alive(processes: dict[int, str], within: float) -> dict[int, str]:
    """The processes of ``processes`` still running after ``within`` seconds at most."""
    deadline = time.monotonic() + within
    while True:
        alive = {pid: command for pid, command in processes.items() if _running(pid)}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@linux_processes
def test_a_private_ray_runs_the_units_on_loopback_and_close_stops_every_process_it_started(ray):
    assert not ray.is_initialized()
    before = descendants()  # a fork server another test left (multiprocessing keeps it) is not Ray's
    backend = RayBackend(workers=2, address=None)
    try:
        assert (backend.name, backend.workers) == ("ray", 2)
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        futures = [backend.submit(operator.add, n, 10) for n in range(6)]
        assert [future.result(timeout=30) for future in futures] == [10, 11, 12, 13, 14, 15]
        failed = backend.submit(operator.truediv, 1, 0)
        error = failed.exception(timeout=30)
        assert type(error) is ZeroDivisionError  # the unit's own exception, as with processes
        assert "in _call" in str(error.__cause__)  # and the remote traceback behind it
        started = {pid: command for pid, command in descendants().items() if pid not in before}
        assert any("raylet" in command for command in started.values()), started
    finally:
        backend.close()
    assert not ray.is_initialized()
    assert not still_alive(started, within=5)


@linux_processes
def test_close_with_cancel_returns_within_a_second_while_a_unit_sleeps_for_thirty(ray):
    before = descendants()
    backend = RayBackend(workers=1, address=None)
    sleeping = backend.submit(time.sleep, 30)
    deadline = time.monotonic() + 30
    while not any("ray::_call" in command for command in descendants().values()):  # running, not queued
        assert time.monotonic() < deadline, f"the unit never started: {descendants()}"
        time.sleep(0.05)
    started = {pid: command for pid, command in descendants().items() if pid not in before}
    began = time.monotonic()
    backend.close(cancel=True)
    assert time.monotonic() - began < 1.0
    assert sleeping.cancelled()
    backend.close()  # a second close waits for Ray's shutdown, which goes on in the background
    assert not ray.is_initialized()
    assert not still_alive(started, within=5)


@linux_processes
def test_an_exploration_through_a_local_ray_gives_the_serial_result(ray, monkeypatch, tmp_path):
    import importlib

    from explorer import explore
    from explorer._engine import coordinator
    from explorer.json_format import result_to_dict

    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.0)  # hand out units at once, small ones
    monkeypatch.setattr(coordinator, "SLICE", 0.01)
    # a module found only through a folder this process put on sys.path at run time: the
    # private Ray's workers import it too (they did not: found by a review)
    (tmp_path / "ray_counter_module.py").write_text(
        "from explorer import Scenario, read, write\n"
        "def count(one=1):\n"
        "    for _ in range(2):\n"
        "        value = yield read('x')\n"
        "        yield write('x', value + one)\n"
        "def count_float():\n"
        "    return count(1.0)\n"
        "scenario = Scenario('counter 3x2', variables={'x': 0}, threads={'A': count, 'B': count, 'C': count_float})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    scenario = importlib.import_module("ray_counter_module").scenario
    serial = explore(scenario, strategy="exhaustive")
    parallel = explore(scenario, strategy="exhaustive", workers=2, backend="ray")
    assert parallel.workers == 2 and len(parallel.unit_seconds) > 1
    assert parallel.executions == serial.executions == 34_650
    # C adds 1.0: the last writer decides whether x ends an int or a float, and those are
    # other final states, kept apart through the workers' pickled tallies too
    assert {"4", "4.0", "6.0"} < {repr(state["x"]) for state in parallel.final_states}
    assert {k: v for k, v in result_to_dict(parallel).items() if k != "elapsed"} == \
        {k: v for k, v in result_to_dict(serial).items() if k != "elapsed"}
    assert not ray.is_initialized()  # the private Ray it started is stopped again


def test_a_ray_cluster_that_cannot_be_reached_is_refused_in_one_line_naming_its_address(monkeypatch):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is connected to a Ray already: the backend would use it")

    def refuse(*_args, **_kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6391.\nTraceback of Ray's own")

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setattr(ray_backend, "_check_reachable", lambda address: None)  # Ray's own refusal
    with pytest.raises(RayBackendError, match=r"could not connect to the Ray cluster at 'host:6391': "
                                              r"Failed to connect to Ray cluster at 192\.0\.2\.2:6391\.") as refused:
        RayBackend(2, "host:6391")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_cluster_address_where_nothing_listens_is_refused_at_once_without_ray_retrying(scheme, monkeypatch):
    # Ray retries a head it cannot reach for a minute, or for ever on this machine (its log
    # lines every few seconds), whatever the time limit: the backend asks the port first
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is connected to a Ray already: the backend would use it")
    with socket.socket() as probe:  # a port that was free a moment ago, closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def never(*_args, **_kwargs):
        raise AssertionError("ray.init was called for an address nothing listens at")

    monkeypatch.setattr(ray, "init", never)
    address = f"{scheme}127.0.0.1:{port}"
    with pytest.raises(RayBackendError, match=rf"could not connect to the Ray cluster at '{address}': nothing "
                                              rf"answered at 127\.0\.0\.1 port {port} \(Connection refused\)"):
        RayBackend(2, address)
