"""The HTML report: one self-contained page that escapes what users wrote, keeps its inline
pictures apart, and renders in a real browser with the network switched off."""

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from explorer import Scenario, crosscheck, explore, read, write
from explorer.crosscheck import UNEXPECTED, Observation
from explorer.errors import InvalidArgument
from explorer.render import replay_hint
from explorer.report_html import render_report, write_report
from scenarios import abba, counter

from .helpers import POLLING, one_or_true, overdraft
from .helpers import counter as counting

SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                 "wbr"}


@pytest.fixture(scope="module")
def results():
    return [explore(counter.lost_update, strategy="exhaustive"), explore(abba.abba_deadlock, strategy="exhaustive")]


@pytest.fixture(scope="module")
def page(results):
    return render_report(results, title="Counter & ABBA")


class StrictParser(HTMLParser):
    """Records every start tag, and every way the nesting of tags goes wrong."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.problems, self.tags, self.text = [], [], Counter(), []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] += 1

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'} at {self.getpos()}")
        else:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return parser


# ---------------------------------------------------------------------------------------------
# The page's text


def test_report_of_counter_and_abba_shows_every_finding_with_its_picture_trace_and_replay(results, page):
    findings = [finding for result in results for finding in result.findings]
    assert {f.kind for f in findings} == {"lost-update", "nonserializable", "race", "deadlock",
                                          "lock-order-cycle"}
    for result in results:
        assert f">{result.scenario.name} <span" in page  # the section heading
        assert result.summary() in page
    for finding in findings:
        assert f'<span class="kind">{finding.kind}</span>' in page
        assert re.sub("'", "&#x27;", finding.message).replace(">", "&gt;") in page
        assert replay_hint(finding.trace).replace("'", "&#x27;") in page
    assert page.count('<article class="finding') == len(findings)
    # A swimlane per finding, and per scenario a state graph; ABBA's locks add a lock-order graph.
    assert page.count("<svg ") == len(findings) + len(results) + 1
    assert "<title>Counter &amp; ABBA</title>" in page


def test_report_shows_the_outcome_table_with_counts_and_shares(page):
    assert re.search(r'<tr class="flagged"><td class="label">x=1</td><td class="num">4</td>.*?66\.7%'
                     r'.*?nonserializable', page)
    assert re.search(r'<td class="label">x=2</td><td class="num">2</td>.*?33\.3%', page)
    assert re.search(r'deadlocked \(no final state\)</td><td class="num">2</td>.*?33\.3%.*?deadlock', page)


def test_table_of_contents_links_every_scenario_with_its_expect_verdict_and_worst_severity(page):
    contents = page[page.index('<nav class="contents"'):page.index("</nav>")]
    assert re.findall(r'<a href="#(scenario-\d)">([^<]*)</a><span class="badge clean">expect holds</span>'
                      r'<span class="badge (\w+)">', contents) == [
        ("scenario-1", "lost update", "error"), ("scenario-2", "ABBA deadlock", "error")]
    assert 'id="scenario-1"' in page and 'id="scenario-2"' in page


def test_report_loads_nothing_from_elsewhere(page):
    assert set(re.findall(r"https?://[^\s\"'<>)]*", page)) <= SVG_NAMESPACES
    assert not re.search(r"<script|<link|<iframe|<img|\bsrc=|@import|@font-face", page, re.IGNORECASE)
    assert set(re.findall(r"url\((.)", page)) <= {"#"}  # only references inside the page's own SVGs
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # The one style sheet is the page's: matplotlib's own '*' rule was taken out of every SVG.
    assert page.count("<style") == 1


def test_report_is_well_formed_html(page):
    parser = parse(page)
    assert parser.problems == []
    assert parser.open == []
    assert parser.tags["html"] == 1 and parser.tags["main"] == 1 and parser.tags["section"] == 2
    assert parser.tags["script"] == 0


def test_every_inline_svg_id_is_unique_and_every_reference_points_into_its_own_picture(page):
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert [name for name, times in Counter(ids).items() if times > 1] == []
    references = re.findall(r'(?:href="#|url\(#)([^")]+)', page)
    assert references and set(references) <= set(ids)
    # Each picture's references stay inside it: a picture is an <svg ...> ... </svg> span.
    for picture in re.findall(r"<svg .*?</svg>", page, re.DOTALL):
        inside = set(re.findall(r'\bid="([^"]+)"', picture))
        assert set(re.findall(r'(?:href="#|url\(#)([^")]+)', picture)) <= inside
        assert "<metadata>" not in picture and "<?xml" not in picture
        assert "<text" in picture  # text stays text, not glyph outlines


def test_an_invariant_broken_by_several_outcomes_is_one_card_listing_each_with_its_count():
    result = explore(overdraft())
    page = render_report([result])
    cards = re.findall(r'<article class="finding.*?</article>', page, re.DOTALL)
    broken = [card for card in cards if '<span class="kind">invariant</span>' in card]
    assert len(broken) == 1 and sum(f.kind == "invariant" for f in result.findings) == 3
    assert "invariant never_negative is broken by 2 outcomes:" in broken[0]
    rows = re.findall(r'<tr><td class="label">(.*?)</td><td class="num">(\d+)</td></tr>', broken[0])
    assert rows == [("balance=-40", "12"), ("balance=-60", "16")]
    assert "in 28 executions" in broken[0] and broken[0].count("<svg") == 1  # the first one's swimlane
    assert parse(page).problems == []


def test_user_text_with_markup_is_escaped_everywhere():
    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    name = '<script>alert("owned")</script> & <b>bold</b>'
    scenario = Scenario(name, variables={"x": 0}, threads={"<i>A": increment, "B": increment})
    page = render_report([explore(scenario)], title="<script>title</script>")
    assert "<script" not in page and "<i>A" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    parser = parse(page)
    assert parser.problems == [] and parser.tags["script"] == parser.tags["b"] == parser.tags["i"] == 0
    assert name in "".join(parser.text)  # what the reader sees is the name as written


def test_an_incomplete_result_carries_a_banner_and_a_state_graph_too_large_says_why():
    def count_to(variable):
        def body():
            for value in range(7):
                yield write(variable, value)
        return body

    # 8 ** 3 = 512 states, more than the 400 a picture shows, and no finding to cut them down to.
    scenario = Scenario("three counters", variables={"a": 0, "b": 0, "c": 0},
                        threads={"A": count_to("a"), "B": count_to("b"), "C": count_to("c")})
    result = explore(scenario, max_executions=3, strategy="exhaustive")
    assert not result.complete
    page = render_report([result])
    assert '<div class="banner incomplete" role="alert">INCOMPLETE: stopped at max_executions' in page
    assert '<span class="badge incomplete">incomplete</span>' in page
    assert re.search(r"The state graph is not drawn: the state graph has 512 states, more than max_nodes", page)
    assert "No findings in the part that was explored" in page
    assert "<svg" not in page


def test_a_report_builds_the_state_graph_only_up_to_its_own_budget_and_draws_one_built_already():
    # counter 4x3 has tens of thousands of states: the report built 20,000 of them (minutes)
    # to say it would not draw them; it stops at REPORT_MAX_STATES now
    result = explore(counting(4, 3), strategy="stateful")
    page = render_report([result])
    assert "The state graph is not drawn: scenario &#x27;counter 4x3&#x27; has more than max_states=1000 " \
           "reachable states; explorer.graphs.state_graph(scenario, max_states=N) builds a larger one" in page
    small = explore(counting(2, 2))
    assert small.state_graph.number_of_nodes() < 1000  # built and kept by the result: drawn as it is
    assert "<h3>State graph</h3>\n<figure" in render_report([small])


def test_crosscheck_table_colours_each_verdict_and_shouts_unexpected_rows(results):
    check = crosscheck(counter.lost_update, runs=40, seed=1, model=results[0])
    calm = render_report(results, crosschecks=[check])
    assert "Cross-check on real threads" in calm and "No unexpected outcome" in calm
    assert "MODEL IS WRONG" not in calm
    assert set(re.findall(r'<tr class="verdict-(\w+)">', calm)) <= {"expected", "flagged"}

    wrong = dataclasses.replace(check, rows=check.rows + (Observation("outcome", "x=3", 1, UNEXPECTED),))
    loud = render_report(results, crosschecks=[wrong])
    assert '<div class="banner wrong" role="alert">MODEL IS WRONG' in loud
    assert '<tr class="verdict-unexpected"><td class="label">x=3</td>' in loud
    assert '<span class="badge wrong">model is wrong</span>' in loud  # in the contents too
    assert loud.count("Cross-check on real threads") == 1  # shown with its own scenario only


def test_misused_arguments_are_refused_with_the_fix(results):
    with pytest.raises(InvalidArgument, match=r"render_report\(\[result\]\)"):
        render_report(results[0])
    with pytest.raises(InvalidArgument, match=r"results\[1\] is a str"):
        render_report([results[0], "abba"])
    check = crosscheck(counter.lost_update, runs=5, seed=1, model=results[0])
    with pytest.raises(InvalidArgument, match="matches no result"):
        render_report([results[1]], crosschecks=[check])


def test_write_report_replaces_the_file_whole_and_leaves_no_temporary_behind(tmp_path, results):
    target = tmp_path / "reports" / "report.html"
    assert write_report(target, results[:1]) == target
    first = target.read_text(encoding="utf-8")
    write_report(target, results)
    assert target.read_text(encoding="utf-8") != first
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


# ---------------------------------------------------------------------------------------------
# In a real browser, offline


def chromium() -> str:
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        pytest.fail("EXPLORER_REQUIRE_BROWSER is set but chromium is not installed; "
                    "install it with: apt-get install -y chromium")
    pytest.skip("chromium is not installed (apt-get install -y chromium); set EXPLORER_REQUIRE_BROWSER=1 "
                "to make this a failure")


def run_chromium(browser: str, home: Path, *arguments: str, timeout: float = 60) -> str:
    """Run headless chromium with every network request refused; return its standard output.
    Its process group is killed if it overruns ``timeout``, and any helper it left behind after."""
    command = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
               f"--user-data-dir={home / 'profile'}", *arguments]
    env = {**os.environ, "HOME": str(home)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within {timeout}s: {' '.join(command)}")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode("utf-8", errors="replace")


def test_report_renders_offline_in_headless_chromium(tmp_path, results):
    browser = chromium()
    report = write_report(tmp_path / "report.html", results, title="Counter & ABBA")
    url = report.resolve().as_uri()

    dom = run_chromium(browser, tmp_path, "--dump-dom", url)
    findings = [finding for result in results for finding in result.findings]
    assert dom.count('<article class="finding') == len(findings)
    for number, result in enumerate(results, 1):
        section = re.search(rf'<section class="scenario" id="scenario-{number}".*?</section>', dom,
                            re.DOTALL)
        assert section, f"section {number} missing from the DOM chromium built"
        assert section[0].count('<article class="finding') == len(result.findings)
        assert section[0].count("<svg") >= len(result.findings) + 1
    assert "<title>Counter &amp; ABBA</title>" in dom

    shot = tmp_path / "report.png"
    run_chromium(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", url)
    assert shot.stat().st_size > 20_000
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.std() > 0.05  # not a blank page
    # The swimlanes' marked steps are drawn in vermilion (#D55E00): the inline SVGs were painted.
    vermilion = (abs(pixels[..., 0] - 213 / 255) < 0.06) & (abs(pixels[..., 1] - 94 / 255) < 0.06) & (
        pixels[..., 2] < 0.08)
    assert vermilion.sum() > 200


def test_a_polling_loops_finding_shows_its_repeats_as_one_row_and_no_swimlane_past_the_drawable(monkeypatch):
    from explorer import pictures

    monkeypatch.setattr(pictures, "MAX_SWIMLANE_STEPS", 50)  # 600 for real: drawing those takes seconds
    page = render_report([explore(POLLING, max_steps=70)])
    # the max-steps finding's 70 reads: one row, and a note instead of a 70-step picture
    assert '<td class="num">1-70</td>' in page and "read flag -&gt; 0 (70 times)" in page
    assert "swimlane not drawn: a trace of 70 steps is too long to draw as swimlanes" in page
    assert page.count("<svg") >= 2  # the race's short trace is drawn, and the state graph


def test_an_outcome_equal_under_double_equals_to_a_flagged_one_but_of_another_type_is_not_flagged():
    page = render_report([explore(one_or_true(), strategy="exhaustive")])
    assert re.search(r'<tr class="flagged"><td class="label">x=1</td>.*?nonserializable', page)
    assert re.search(r'<tr class=""><td class="label">x=True</td>', page)


def test_a_deadlocks_last_row_names_where_each_blocked_thread_waits(page, monkeypatch):
    row = re.search(r'<tr class="blocked">.*?</tr>', page, re.DOTALL)[0]
    assert 'title="scenarios/abba.py:18, scenarios/abba.py:18">abba.py:18, abba.py:18</td>' in row
    # in a notebook each place is the cell's name, not the tail of the kernel's file name
    import explorer.render
    from explorer.pictures import _lock_edge_label
    from explorer.report_html import _source

    cells = {"/tmp/ipykernel_7/41.py:5": "In[1]:5", "/tmp/ipykernel_7/41.py:6": "In[1]:6"}
    monkeypatch.setattr(explorer.render, "display_location", lambda place: cells.get(place, place))
    assert _source("/tmp/ipykernel_7/41.py:5, /tmp/ipykernel_7/41.py:6") == (
        '<td class="source" title="In[1]:5, In[1]:6">In[1]:5, In[1]:6</td>')
    import explorer._text
    monkeypatch.setattr(explorer._text, "cell_location", lambda place: cells.get(place, place))
    assert _lock_edge_label({"thread": "A", "location": "/tmp/ipykernel_7/41.py:5"}) == "A @ In[1]:5"


def test_a_trace_tables_step_header_and_marks_stay_readable_beside_long_thread_names(page):
    # "table.trace th" lets long thread names wrap; the step number's header must not ("st ep"),
    # and a mark keeps room for a word or two ("<- racin g write" in a three-pool-thread trace)
    assert "table.trace th.num { white-space: nowrap; overflow-wrap: normal; }" in page
    assert re.search(r"table\.trace td\.mark \{[^}]*min-width: 11ch", page)


def test_a_lesson_shows_whether_its_expect_holds_beside_the_errors_it_teaches_and_ignore_expect_leaves_it_out():
    wrong = Scenario("counter said to be safe", variables={"x": 0}, threads={"A": counter.increment,
                                                                             "B": counter.increment},
                     expect=counter.locked_counter.expect)
    results = [explore(counter.lost_update), explore(wrong)]
    page = render_report(results)
    said = re.findall(r'<p class="banner (\w+)">(Expect: [^<]*)</p>', page)
    assert said == [("fine", "Expect: holds (lost-update, nonserializable, race, as the scenario states)"),
                    ("wrong", "Expect: FAILS: " + "; ".join(counter.locked_counter.expect.problems(results[1])))]
    assert page.count("expect holds</span>") == 2 and page.count("expect fails</span>") == 2  # contents, heading
    bare = render_report(results, expect=False)
    assert "expect holds" not in bare and "expect fails" not in bare and "Expect:" not in bare
