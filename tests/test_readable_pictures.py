"""Pictures stay readable: long swimlane labels wrap or are cut inside their boxes with the
whole text on hover, and a large state graph shows the paths to its findings, not a hairball."""

import re

from matplotlib.patches import FancyBboxPatch

from explorer import Scenario, explore, read, write
from explorer.pictures import draw_swimlane
from explorer.report_html import COLLAPSE_ABOVE, render_report

LONG_NAME = "customer_account_balance_in_cents"
OWNER = "Alexandra Konstantinopoulou"


def update():
    record = yield read(LONG_NAME)
    yield write(LONG_NAME, (OWNER, record[1] + 100, tuple(range(12))))


long_labels = Scenario("long labels", variables={LONG_NAME: (OWNER, 0, ())},
                       threads={"deposit_from_the_payroll_service_nightly": update, "B": update})


def boxes_and_texts(figure):
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    boxes = [p.get_window_extent(renderer) for p in axes.patches
             if isinstance(p, FancyBboxPatch) and p.get_gid() and p.get_gid().startswith("hover-")]
    texts = [t for t in axes.texts if t.get_gid() and t.get_gid().startswith("hover-")
             and t.get_text().startswith(("read", "write"))]
    return boxes, texts, renderer


def test_every_step_label_of_a_long_trace_fits_inside_its_box_at_a_readable_size():
    lost = next(f for f in explore(long_labels).findings if f.kind == "lost-update")
    figure = draw_swimlane(lost.trace)
    boxes, texts, renderer = boxes_and_texts(figure)
    assert len(boxes) == len(texts) == 4
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert text.get_fontsize() >= 7.5
        assert any(box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1
                   for box in boxes), text.get_text()


def test_the_lost_write_and_the_overwrite_are_as_large_as_the_shortest_label():
    lost = next(f for f in explore(long_labels).findings if f.kind == "lost-update")
    _, texts, _ = boxes_and_texts(draw_swimlane(lost.trace))
    sizes = {text.get_fontsize() for text in texts}
    assert len(sizes) == 1  # the longest labels no longer shrink to a few pixels


def test_a_cut_label_and_a_cut_thread_name_show_their_whole_text_on_hover_in_the_report():
    page = render_report([explore(long_labels)])
    titles = re.findall(r"<title>([^<]*)</title>", page)
    assert "deposit_from_the_payroll_service_nightly" in titles  # the lane's name, cut in the picture
    whole = (f"B: step 3: write {LONG_NAME} = (&#x27;{OWNER}&#x27;, 100, "
             f"(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)) (lost write)")
    assert whole in titles


def test_a_large_state_graph_in_the_report_shows_only_the_paths_to_findings_and_the_steps_off_them():
    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    four = explore(Scenario("four counters", variables={"x": 0}, threads={t: increment for t in "ABCD"}))
    assert four.state_graph.number_of_nodes() > COLLAPSE_ABOVE
    page = render_report([four])
    shown = re.search(r"showing (\d+) of (\d+) states: the paths to the findings and the steps off them",
                      page)
    assert shown and int(shown[1]) < int(shown[2]) == four.state_graph.number_of_nodes()
    assert "The highlighted paths are the traces of the findings" in page and "paths to findings" in page


def test_the_trace_table_of_long_steps_fits_its_card_in_a_narrow_browser_window(tmp_path):
    from tests.test_report_html import chromium, run_chromium

    browser = chromium()
    page = render_report([explore(long_labels)])
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)  # to let the probe run
    probe = ("<script>const inner = a => a.clientWidth - parseFloat(getComputedStyle(a).paddingLeft)"
             " - parseFloat(getComputedStyle(a).paddingRight);"
             "document.body.dataset.overflowing = [...document.querySelectorAll('table.trace')]"
             ".filter(t => t.scrollWidth > inner(t.closest('article'))).length;"
             "document.body.dataset.tables = document.querySelectorAll('table.trace').length;</script>")
    (tmp_path / "narrow.html").write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = run_chromium(browser, tmp_path, "--window-size=760,1200", "--dump-dom",
                       (tmp_path / "narrow.html").as_uri())
    assert re.search(r'data-tables="[1-9]\d*"', dom) and 'data-overflowing="0"' in dom
