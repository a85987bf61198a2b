"""State graphs, happens-before graphs and their export agree with exploration."""

import json
import re
from functools import cache

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from explorer import Scenario, explore, read, replay, write
from explorer.errors import GraphTooLarge, InvalidArgument, ScheduleError
from explorer.export import to_dot, write_graph
from explorer.graphs import happens_before_graph, path_of, state_graph
from scenarios import abba, counter, fake_database

from .helpers import POLLING
from .test_properties import lock_kinds, programs, scenario_of


def maximal_paths(graph):
    """Paths from the initial state to each terminal state, counted on the DAG."""
    @cache
    def paths(node):
        successors = list(graph.successors(node))
        return 1 if not successors else sum(paths(s) for s in successors)
    return paths(0)


def test_the_two_thread_counter_folds_into_the_interleaving_lattice():
    graph = state_graph(counter.lost_update)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (12, 14)
    both_read = [n for n, d in graph.nodes(data=True) if d["counts"] == (1, 1) and d["values"] == (0,)]
    assert len(both_read) == 1 and graph.in_degree(both_read[0]) == 2  # A then B, or B then A
    terminals = {d["outcome"]: d for _, d in graph.nodes(data=True) if d["terminal"]}
    assert set(terminals) == {"x=1", "x=2"}
    assert terminals["x=1"]["bad"] and "nonserializable" in terminals["x=1"]["findings"]
    assert not terminals["x=2"]["bad"]
    assert maximal_paths(graph) == 6
    assert graph.nodes[0]["initial"] and graph.nodes[0]["depth"] == 0


def test_every_edge_says_which_thread_took_which_step():
    graph = state_graph(counter.lost_update)
    labels = {d["label"] for _, _, d in graph.edges(data=True)}
    assert {"A: read x -> 0", "B: write x = 1", "B: read x -> 1"} <= labels
    for u, v, _ in graph.edges(data=True):
        assert graph.nodes[v]["depth"] == graph.nodes[u]["depth"] + 1


def test_a_findings_trace_walks_the_state_graph_to_its_bad_state():
    result = explore(fake_database.fake_database_update)
    graph = state_graph(fake_database.fake_database_update)
    for finding in result.findings:
        if finding.kind == "nonserializable":
            end = path_of(graph, finding.trace)[-1]
            assert graph.nodes[end]["bad"] and graph.nodes[end]["terminal"] == "completed"


def test_deadlocks_are_marked_terminal_states():
    graph = state_graph(abba.abba_deadlock)
    deadlocked = [d for _, d in graph.nodes(data=True) if d["terminal"] == "deadlocked"]
    assert deadlocked and all(d["bad"] and "deadlock" in d["findings"] for d in deadlocked)
    assert all(set(d["holders"]) == {"A", "B"} for d in deadlocked)


def test_a_schedule_that_leaves_the_graph_is_refused():
    graph = state_graph(counter.lost_update)
    with pytest.raises(ScheduleError, match="thread 'C'"):
        path_of(graph, ["A", "C"])


def test_an_endless_loop_makes_the_state_graph_too_large_with_a_hint():
    def spin():
        while True:
            yield read("x")

    scenario = Scenario("spin", variables={"x": 0}, threads={"A": spin})
    with pytest.raises(GraphTooLarge, match="more than max_states=50 reachable states"):
        state_graph(scenario, max_states=50)


def test_the_result_builds_its_state_graph_once():
    result = explore(counter.lost_update)
    assert result.state_graph is result.state_graph
    assert result.state_graph.number_of_nodes() == 12


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds)
def test_the_state_graph_has_one_maximal_path_per_execution_and_the_same_outcomes(programs, kinds):
    scenario = scenario_of(programs, kinds)
    result = explore(scenario, strategy="exhaustive")
    graph = state_graph(scenario)
    assert maximal_paths(graph) == result.executions
    terminal = [d for _, d in graph.nodes(data=True) if d["terminal"]]
    assert {d["values"] for d in terminal if d["terminal"] == "completed"} == \
           {tuple(state.values()) for state in result.final_states}
    assert any(d["terminal"] == "deadlocked" for d in terminal) == (result.deadlocked > 0)
    assert nx.is_directed_acyclic_graph(graph)


def test_the_happens_before_graph_orders_a_locked_handover_and_shows_no_race():
    trace = explore(counter.locked_counter).final_states and replay(
        counter.locked_counter, ["A"] * 4 + ["B"] * 4).trace
    graph = happens_before_graph(trace)
    relations = [d["relation"] for _, _, d in graph.edges(data=True)]
    assert relations.count("lock") == 1 and "race" not in relations
    assert nx.has_path(graph, 2, 6)  # A's write happens before B's read


def test_graphs_export_to_dot_graphml_and_json_and_read_back(tmp_path):
    graph = state_graph(counter.lost_update)
    dot = to_dot(graph)
    edge_lines = [line for line in dot.splitlines() if re.match(r'  "\d+" -> "\d+"', line)]
    assert dot.startswith('digraph "state" {') and len(edge_lines) == graph.number_of_edges()
    assert 'fillcolor="#D55E00"' in dot  # the bad outcome stands out when Graphviz draws it
    written = write_graph(graph, tmp_path / "counter.graphml")
    back = nx.read_graphml(written)
    assert (back.number_of_nodes(), back.number_of_edges()) == (12, 14)
    data = json.loads((write_graph(graph, tmp_path / "counter.json")).read_text())
    again = nx.node_link_graph(data, edges="links")
    assert again.number_of_edges() == 14 and data["graph"]["threads"] == ["A", "B"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter.graphml", "counter.json"]


def test_an_unknown_graph_file_suffix_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match=r"unknown suffix '\.txt'"):
        write_graph(state_graph(counter.lost_update), tmp_path / "g.txt")


def test_lock_order_graphs_export_with_their_cycle(tmp_path):
    graph = explore(abba.abba_deadlock).lock_order_graph
    data = json.loads(write_graph(graph, tmp_path / "locks.json").read_text())
    assert data["graph"]["cycles"] == [["a", "b"]]
    assert all(link["in_cycle"] for link in data["links"])


def test_writes_with_a_hashable_but_odd_value_export_safely(tmp_path):
    def writer():
        yield write("x", (1, float("nan")))

    graph = state_graph(Scenario("odd", variables={"x": None}, threads={"A": writer}))
    text = write_graph(graph, tmp_path / "odd.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"invalid JSON constant {name}"))


def test_the_state_graph_of_a_polling_loop_is_refused_once_its_replays_run_long(monkeypatch):
    from explorer._engine import state_space

    # each state's path is replayed from the start: a path 10,000 polls deep costs 5e7
    # steps before max_states is near; the budget refuses it (made small here, 2e6 for real)
    monkeypatch.setattr(state_space, "MAX_REPLAYED", 20_000)
    with pytest.raises(GraphTooLarge, match=r"state graph is out of reach: .* pass a smaller max_steps"):
        state_graph(POLLING)
    assert state_graph(POLLING, max_steps=20).number_of_nodes() > 20  # small enough: drawn


def test_graph_dir_says_which_graphs_it_wrote_and_never_claims_one_it_refused(monkeypatch, tmp_path, capsys):
    from explorer._engine import state_space
    from explorer.cli import main

    (tmp_path / "polling.py").write_text("from tests.helpers import POLLING as polling\n")
    monkeypatch.setattr(state_space, "MAX_REPLAYED", 500)  # the state graph is refused
    main(["run", str(tmp_path / "polling.py"), "--max-steps", "60", "--graph", str(tmp_path / "g"), "-q"])
    out = capsys.readouterr().out
    assert "state graph is out of reach" in out and "graphs written" not in out
    assert not (tmp_path / "g").exists()
    monkeypatch.setattr(state_space, "MAX_REPLAYED", 2_000_000)
    main(["run", str(tmp_path / "polling.py"), "--max-steps", "60", "--graph", str(tmp_path / "g"), "-q"])
    assert "graphs written to" in capsys.readouterr().out and (tmp_path / "g" / "polling-states.dot").exists()
