"""What a notebook shows of each object, checked without a kernel: short reprs, HTML cards that
reuse the report's, graphs and pictures as SVG."""

from explorer import crosscheck, explore, replay
from explorer.graphs import happens_before_graph
from explorer._text import cell_location
from explorer.notebook import MAX_OPEN_ROWS
from explorer.pictures import draw_swimlane
from scenarios.abba import abba_deadlock
from scenarios.counter import lost_update


def test_every_result_object_has_a_one_line_repr_far_shorter_than_its_text():
    result = explore(lost_update)
    execution = replay(lost_update, ["A", "B", "B", "A"])
    objects = [result, execution, result.findings[0], result.findings[0].trace, result.state_graph,
               crosscheck(lost_update, runs=20, seed=1, model=result)]
    for thing in objects:
        text = repr(thing)
        assert "\n" not in text and len(text) < 200 and text.startswith("<"), text
    assert repr(result) == ("<ExplorationResult 'lost update': " + result.summary()
                            + "; 4 findings (2 errors, 2 warnings)>")


def test_a_result_shows_its_counts_outcomes_and_each_finding_folded_but_the_first_error():
    page = explore(lost_update)._repr_html_()
    assert page.count("<details") == 4 and page.count("<details class=\"finding error\" open>") == 1
    assert "Outcomes of 4 executions" in page and page.count("<svg") == 4
    quoted = ", ".join(f"&#x27;{name}&#x27;" for name in "ABBA")
    assert f"To replay: <code>replay(scenario, [{quoted}])" in page


def test_a_lesson_shown_in_a_notebook_says_first_whether_its_expect_holds():
    page = explore(lost_update)._repr_html_()
    assert '<span class="badge clean">expect holds</span>' in page
    assert ('<p class="banner fine">Expect: holds (lost-update, nonserializable, race, as the scenario states)</p>'
            in page)
    cut = explore(lost_update, max_executions=1)._repr_html_()
    assert "expect holds so far</span>" in cut and "but the exploration was INCOMPLETE" in cut


def test_a_long_outcome_table_is_folded():
    from explorer import Scenario, read, write

    def add(n):
        def body():
            value = yield read("x")
            yield write("x", value + n)
        return body

    many = explore(Scenario("many", variables={"x": 0}, threads={f"T{n}": add(10 ** n) for n in range(4)}))
    assert len(many.outcomes) > MAX_OPEN_ROWS
    assert f"<details><summary>outcomes ({len(many.outcomes)})</summary>" in many._repr_html_()


def test_findings_traces_executions_and_crosschecks_show_the_reports_cards():
    result = explore(abba_deadlock)
    deadlock = result.deadlocks[0]
    assert '<article class="finding error"' in deadlock._repr_html_()
    assert "BLOCKED acquire" in deadlock.trace._repr_html_()
    execution = replay(abba_deadlock, deadlock.trace)
    assert "deadlocked" in execution._repr_html_() and '<table class="trace">' in execution._repr_html_()
    check = crosscheck(lost_update, runs=20, seed=1)
    assert "Cross-check on real threads" in check._repr_html_()


def test_graphs_and_pictures_draw_themselves_as_svg_and_a_graph_it_cannot_draw_falls_back_to_text():
    result = explore(abba_deadlock)
    assert "<svg" in result.state_graph._repr_svg_()
    assert "<svg" in result.lock_order_graph._repr_svg_()
    assert "<svg" in happens_before_graph(result.findings[0].trace)._repr_svg_()
    assert "<svg" in draw_swimlane(result.findings[0].trace)._repr_svg_()
    assert result.deadlocks[0].wait_for_graph()._repr_svg_() is None


def test_the_notebook_styles_are_confined_to_explorers_own_output():
    from explorer.notebook import _scoped_css

    rules = [rule for rule in _scoped_css().splitlines() if "{" in rule]
    assert rules and all(rule.startswith("div.explorer-nb.explorer-nb") for rule in rules)


def test_outside_a_notebook_a_location_stays_as_it_is():
    assert cell_location("scenarios/counter.py:13") == "scenarios/counter.py:13"
    assert cell_location(None) is None
