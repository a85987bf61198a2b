"""Pictures of state graphs, lock orders, happens-before graphs and traces: matplotlib only,
well-formed SVG with text kept as text, the problem drawn in the highlight colour, a size
guard that never lays out a huge graph, atomic and deterministic files."""

import os
import re
import runpy
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import networkx as nx
import pytest

from explorer import Event, Trace, pictures, replay
from explorer.errors import GraphTooLarge, InvalidArgument
from explorer.pictures import (
    HIGHLIGHT,
    draw_happens_before,
    draw_lock_order_graph,
    draw_state_graph,
    draw_swimlane,
    save_figure,
)
from scenarios.abba import abba_deadlock
from scenarios.counter import lost_update

HIGHLIGHT_HEX = HIGHLIGHT.lower()


# ---------------------------------------------------------------------------------------------
# Graphs built by hand, to the contracts the draw_* functions document


def counter_state_graph(threads=("A", "B")):
    """Every state of ``threads`` each running ``value = read x; write x = value + 1``, from x=0.

    A state is (steps per thread, x, what each thread read and has not written yet); an end
    state with x below the number of threads lost an update.
    """
    graph = nx.DiGraph(kind="state", scenario="counter", threads=tuple(threads), variables=("x",), locks=())
    ids = {}

    def node(counts, x, reads):
        key = (counts, x, reads)
        if key not in ids:
            ids[key] = len(ids)
            done = all(c == 2 for c in counts)
            bad = done and x < len(threads)
            graph.add_node(ids[key], depth=sum(counts), counts=counts, values=(x,), holders=(), initial=not ids[key],
                           terminal="completed" if done else None, outcome=f"x={x}" if done else None,
                           bad=bad, findings=("lost-update",) if bad else (), label=f"x={x}")
        return ids[key]

    start = ((0,) * len(threads), 0, (None,) * len(threads))
    todo, seen = [start], {start}
    node(*start)
    while todo:
        counts, x, reads = todo.pop(0)
        for i, thread in enumerate(threads):
            if counts[i] == 2:
                continue
            after_counts = counts[:i] + (counts[i] + 1,) + counts[i + 1:]
            if counts[i] == 0:
                after, step = (after_counts, x, reads[:i] + (x,) + reads[i + 1:]), f"read x -> {x}"
            else:
                written = reads[i] + 1
                after, step = (after_counts, written, reads[:i] + (None,) + reads[i + 1:]), f"write x = {written}"
            graph.add_edge(node(counts, x, reads), node(*after), thread=thread, step=step, label=f"{thread}: {step}")
            if after not in seen:
                seen.add(after)
                todo.append(after)
    return graph


def terminal(graph, outcome):
    return next(n for n, d in graph.nodes(data=True) if d["outcome"] == outcome)


def abba_lock_order_graph(*, cycle=True):
    graph = nx.MultiDiGraph(kind="lock-order", scenario="abba", cycles=[["a", "b"]] if cycle else [])
    graph.add_node("a", in_cycle=cycle)
    graph.add_node("b", in_cycle=cycle)
    graph.add_edge("a", "b", thread="A", location="/somewhere/scenarios/abba.py:16", held=("a",), in_cycle=cycle)
    if cycle:
        graph.add_edge("b", "a", thread="B", location="/somewhere/scenarios/abba.py:16", held=("b",),
                       in_cycle=True)
    else:
        graph.add_edge("a", "b", thread="B", location=None, held=("a",), in_cycle=False)
    return graph


def counter_happens_before_graph():
    """The lost update A read, B read, A write, B write: three racing pairs."""
    graph = nx.DiGraph(kind="happens-before", threads=("A", "B"))
    steps = [("A", "read x -> 0", None), ("B", "read x -> 0", "B's stale read"),
             ("A", "write x = 1", "lost write"), ("B", "write x = 1", "overwrites it")]
    for index, (thread, label, mark) in enumerate(steps):
        graph.add_node(index, thread=thread, label=label, location=f"counter.py:{13 + index // 2}", mark=mark)
    graph.add_edge(0, 2, relation="program-order")
    graph.add_edge(1, 3, relation="program-order")
    for pair in [(0, 3), (1, 2), (2, 3)]:
        graph.add_edge(*pair, relation="race")
    return graph


def svg_of(figure, tmp_path, name="picture.svg"):
    text = save_figure(figure, tmp_path / name).read_text()
    root = ET.fromstring(text)  # raises if the SVG is not well-formed XML
    words = " ".join(" ".join(element.itertext()) for element in root.iter("{http://www.w3.org/2000/svg}text"))
    return text, words


# ---------------------------------------------------------------------------------------------
# State graphs


def test_the_two_thread_counter_lattice_is_drawn_as_a_diamond_with_a_first_to_the_left():
    graph = counter_state_graph()
    picture = pictures._StatePicture(graph, [], None, None)
    positions = picture._layout({n: "" for n in graph}, 1.0)
    (a_first,) = [v for _, v, d in graph.out_edges(0, data=True) if d["thread"] == "A"]
    (b_first,) = [v for _, v, d in graph.out_edges(0, data=True) if d["thread"] == "B"]
    assert positions[a_first][0] < positions[0][0] < positions[b_first][0]
    assert positions[a_first][1] == positions[b_first][1] < positions[0][1]
    ends = [terminal(graph, "x=1"), terminal(graph, "x=2")]
    assert all(positions[end][1] == min(y for _, y in positions.values()) for end in ends)
    assert len({positions[n] for n in graph}) == len(graph)  # nothing drawn on top of anything else


def test_a_small_state_graph_becomes_well_formed_svg_naming_its_steps_outcomes_and_findings(tmp_path):
    graph = counter_state_graph()
    assert len(graph) == 12
    text, words = svg_of(draw_state_graph(graph), tmp_path)
    for expected in ["A: read x -> 0", "B: write x = 1", "x=2", "x=1", "lost-update", "step of A", "step of B",
                     "'counter'"]:
        assert expected in words, expected
    assert "<path" in text and "font-family" in text  # text stays text: no glyphs turned into paths


def test_the_counterexample_path_is_drawn_in_the_highlight_colour(tmp_path):
    graph = counter_state_graph()
    for node in graph:  # no bad end state, so only the path can bring in the highlight colour
        graph.nodes[node].update(bad=False, findings=())
    serial = [0]
    for thread in ["A", "A", "B", "B"]:
        serial.append(next(v for _, v, d in graph.out_edges(serial[-1], data=True) if d["thread"] == thread))
    plain, _ = svg_of(draw_state_graph(graph), tmp_path, "plain.svg")
    with_path, words = svg_of(draw_state_graph(graph, path=serial), tmp_path, "path.svg")
    assert HIGHLIGHT_HEX not in plain.lower()
    assert HIGHLIGHT_HEX in with_path.lower() and "counterexample path" in words


def test_a_path_that_is_not_a_walk_through_the_graph_is_refused():
    graph = counter_state_graph()
    with pytest.raises(InvalidArgument, match="no step from state"):
        draw_state_graph(graph, path=[0, terminal(graph, "x=2")])
    with pytest.raises(InvalidArgument, match="must start at node 0"):
        draw_state_graph(graph, path=[1, 3])


def test_a_three_thread_counter_colours_edges_by_thread_instead_of_labelling_them(tmp_path):
    graph = counter_state_graph(("A", "B", "C"))
    assert 50 <= len(graph) <= 100 and graph.number_of_edges() > 40
    _, words = svg_of(draw_state_graph(graph), tmp_path)
    assert "step of C" in words and "C: read x -> 0" not in words
    assert "x=3" in words and "x=1" in words


def test_a_graph_over_max_nodes_is_cut_to_the_paths_to_findings_and_the_title_says_so(tmp_path):
    graph = counter_state_graph()
    figure = draw_state_graph(graph, max_nodes=8)
    _, words = svg_of(figure, tmp_path)
    assert "showing 7 of 12 states: paths to findings" in words
    assert "lost-update" in words and "x=2" not in words  # the good outcome is not on a path to a finding


def test_the_size_guard_raises_graph_too_large_with_both_sizes_and_the_way_out():
    with pytest.raises(GraphTooLarge) as raised:
        draw_state_graph(counter_state_graph(), max_nodes=5)
    message = str(raised.value)
    assert "12 states" in message and "7 of them" in message and "max_nodes=5" in message
    assert "larger max_nodes" in message and "draw_swimlane" in message
    assert isinstance(raised.value, ValueError)


def test_the_size_guard_decides_before_any_layout_even_for_a_huge_graph(monkeypatch):
    size = 50_000
    graph = nx.DiGraph(kind="state", scenario="long", threads=("A",), variables=("x",), locks=())
    for node in range(size):
        end = node == size - 1
        graph.add_node(node, depth=node, counts=(node,), values=(node,), holders=(), initial=node == 0,
                       terminal="completed" if end else None, outcome=f"x={node}" if end else None,
                       bad=end, findings=("invariant",) if end else (), label=f"x={node}")
    nx.add_path(graph, range(size), thread="A", step="write x", label="A: write x")

    def no_layout(*args, **kwargs):
        raise AssertionError("laid out a graph that was too large")

    monkeypatch.setattr(pictures, "_StatePicture", no_layout)
    with pytest.raises(GraphTooLarge, match="50000 states and 50000 of them"):
        draw_state_graph(graph, max_nodes=400)


def test_a_large_graph_without_findings_is_refused_rather_than_drawn_empty():
    graph = counter_state_graph()
    for node in graph:
        graph.nodes[node].update(bad=False, findings=())
    with pytest.raises(GraphTooLarge, match="no state leads to a finding"):
        draw_state_graph(graph, max_nodes=3)


def test_each_draw_function_refuses_a_graph_of_another_kind():
    with pytest.raises(InvalidArgument, match="expected a 'state' graph.*kind='lock-order'"):
        draw_state_graph(abba_lock_order_graph())
    with pytest.raises(InvalidArgument, match="'lock-order'"):
        draw_lock_order_graph(counter_state_graph())
    with pytest.raises(InvalidArgument, match="'happens-before'"):
        draw_happens_before(counter_state_graph())
    with pytest.raises(InvalidArgument, match="Trace"):
        draw_swimlane(counter_state_graph())
    with pytest.raises(InvalidArgument, match="positive int"):
        draw_state_graph(counter_state_graph(), max_nodes=0)


# ---------------------------------------------------------------------------------------------
# Lock order and happens-before


def test_the_lock_order_graph_names_locks_and_acquire_sites_and_highlights_the_cycle(tmp_path):
    text, words = svg_of(draw_lock_order_graph(abba_lock_order_graph()), tmp_path)
    for expected in ["a", "b", "A @ abba.py:16", "B @ abba.py:16", "potential deadlock: a \u2192 b \u2192 a"]:
        assert expected in words, expected
    assert "/somewhere" not in words  # only the file's name, not its folder
    assert HIGHLIGHT_HEX in text.lower()


def test_a_lock_order_without_a_cycle_has_nothing_in_the_highlight_colour(tmp_path):
    text, words = svg_of(draw_lock_order_graph(abba_lock_order_graph(cycle=False)), tmp_path)
    assert "no cycle" in words and "A @ abba.py:16" in words and "B" in words
    assert HIGHLIGHT_HEX not in text.lower()


def test_a_lock_taken_again_by_its_holder_is_drawn_as_a_labelled_loop(tmp_path):
    graph = nx.MultiDiGraph(kind="lock-order", scenario="reentrant", cycles=[])
    graph.add_node("r", in_cycle=False)
    graph.add_edge("r", "r", thread="A", location="lock_twice.py:9", held=("r",), in_cycle=False)
    _, words = svg_of(draw_lock_order_graph(graph), tmp_path)
    assert "A @ lock_twice.py:9" in words


def test_the_happens_before_graph_puts_each_thread_in_a_lane_and_dashes_races_in_the_highlight_colour(
        tmp_path):
    text, words = svg_of(draw_happens_before(counter_happens_before_graph()), tmp_path)
    for expected in ["A", "B", "read x -> 0", "write x = 1", "lost write", "3 racing pairs", "race:"]:
        assert expected in words, expected
    assert HIGHLIGHT_HEX in text.lower() and "stroke-dasharray" in text


# ---------------------------------------------------------------------------------------------
# Swimlanes


def test_a_lost_update_swimlane_shows_every_step_and_the_finding_marks(tmp_path):
    trace = replay(lost_update, ["A", "B", "A", "B"]).findings[0].trace
    assert trace.marks
    text, words = svg_of(draw_swimlane(trace), tmp_path)
    assert words.count("read x -> 0") == 2 and words.count("write x = 1") == 2
    for mark in trace.marks.values():
        assert mark in words
    assert "3 context switches" in words and "replay(scenario, ['A', 'B', 'A', 'B'])" in words
    assert HIGHLIGHT_HEX in text.lower()


def test_a_deadlock_swimlane_shows_the_locks_held_and_the_threads_blocked_at_the_end(tmp_path):
    trace = replay(abba_deadlock, ["A", "B"]).trace
    _, words = svg_of(draw_swimlane(trace), tmp_path)
    for expected in ["acquire a", "acquire b", "holds a", "holds b", "BLOCKED", "end",
                     "A waits for b", "B waits for a"]:
        assert expected in words, expected


def test_a_long_trace_wraps_onto_bands_and_keeps_every_step_readable(tmp_path):
    events, schedule = [], []
    for index in range(36):
        thread = "ABC"[(index // 2) % 3]
        events.append(Event(index, thread, "write", "x", index))
        schedule.append(thread)
    trace = Trace(tuple(schedule), tuple(events), ("A", "B", "C"), marks={35: "last"})
    figure = draw_swimlane(trace)
    width, height = figure.get_size_inches()
    assert width <= 20 and height > 6
    _, words = svg_of(figure, tmp_path)
    assert all(f"write x = {i}" in words for i in range(36)) and "last" in words
    assert "36" in words.split()  # the step numbers run on across bands


def test_an_empty_trace_still_draws(tmp_path):
    trace = Trace((), (), ("A", "B"))
    _, words = svg_of(draw_swimlane(trace), tmp_path)
    assert "0 steps" in words


# ---------------------------------------------------------------------------------------------
# Saving


def test_png_and_pdf_files_start_with_their_signatures(tmp_path):
    figure = draw_lock_order_graph(abba_lock_order_graph())
    assert save_figure(figure, tmp_path / "order.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert save_figure(figure, tmp_path / "order.PDF").read_bytes().startswith(b"%PDF")


def test_save_figure_refuses_an_unknown_suffix_and_lists_the_known_ones(tmp_path):
    figure = draw_lock_order_graph(abba_lock_order_graph())
    with pytest.raises(InvalidArgument, match=r"\.svg, \.png, \.pdf"):
        save_figure(figure, tmp_path / "order.txt")
    assert os.listdir(tmp_path) == []


def test_save_figure_leaves_no_temporary_file_and_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    figure = draw_lock_order_graph(abba_lock_order_graph())
    target = save_figure(figure, str(tmp_path / "order.svg"))
    assert target == tmp_path / "order.svg" and os.listdir(tmp_path) == ["order.svg"]
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        save_figure(figure, target)
    assert os.listdir(tmp_path) == ["order.svg"] and target.read_bytes() == before


def test_the_same_picture_gives_the_same_svg_bytes(tmp_path):
    graph = counter_state_graph()
    first = save_figure(draw_state_graph(graph), tmp_path / "one.svg").read_bytes()
    second = save_figure(draw_state_graph(graph), tmp_path / "two.svg").read_bytes()
    assert first == second
    trace = replay(abba_deadlock, ["A", "B"]).trace
    assert (save_figure(draw_swimlane(trace), tmp_path / "three.svg").read_bytes()
            == save_figure(draw_swimlane(trace), tmp_path / "four.svg").read_bytes())


def test_pictures_drawn_in_parallel_threads_match_those_drawn_one_at_a_time(tmp_path):
    trace = replay(lost_update, ["A", "B", "A", "B"]).findings[0].trace
    expected = save_figure(draw_swimlane(trace), tmp_path / "alone.svg").read_bytes()

    def work(name):
        return save_figure(draw_swimlane(trace), tmp_path / f"{name}.svg").read_bytes()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, [f"thread {i}" for i in range(4)]))  # re-raises a thread's error
    assert results == [expected] * 4


def test_the_docs_script_draws_every_picture_the_readme_and_the_docs_link(tmp_path):
    root = Path(__file__).parent.parent
    make = runpy.run_path(str(root / "docs" / "pictures" / "make_pictures.py"))["make"]
    written = {path.name for path in make(tmp_path)}
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    linked = {name for page in pages for name in re.findall(r"pictures/([\w.-]+\.svg)", page.read_text())}
    assert linked and linked <= written
    for name in written:
        ET.parse(tmp_path / name)  # well-formed SVG
        assert (root / "docs" / "pictures" / name).exists(), f"docs/pictures/{name} is not committed"


def test_a_swimlane_shows_no_lock_held_after_a_failed_try_nor_during_a_condition_wait():
    from explorer import Scenario, acquire, release
    from explorer.pictures import _lock_holds

    from .helpers import ready_handshake

    def take_and_give():
        yield acquire("l")
        yield release("l")

    def try_once():
        if (yield acquire("l", blocking=False)):
            yield release("l")

    tried = replay(Scenario("try", locks=["l"], threads={"A": take_and_give, "B": try_once}),
                   ["A", "B", "A"]).trace
    assert _lock_holds(tried.events, {}, len(tried.events)) == [("A", "l", 0, 2)]  # B's try took nothing

    waits = ready_handshake()
    trace = replay(waits, ["C"] * 3 + ["P"] * 4, extend=True).trace
    # the consumer lets go of the lock in wait (step 3) and takes it back when woken (step 8)
    assert _lock_holds(trace.events, {}, len(trace.events)) == [
        ("C", "lock", 0, 2), ("P", "lock", 3, 6), ("C", "lock", 7, 9)]
