"""In a notebook, on a real kernel (nbclient): the tutorials run, and explorer's objects show
as HTML and SVG, with locations that name the cell."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parent.parent
TUTORIALS = sorted((ROOT / "docs" / "tutorial").glob("*.ipynb"))


def execute(book, folder: Path):
    NotebookClient(book, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return book


@pytest.fixture(scope="module")
def executed():
    """Every tutorial notebook, executed once for the module's tests."""
    return {path.stem: execute(nbformat.read(path, as_version=4), path.parent) for path in TUTORIALS}


def outputs(book):
    return [(cell, output) for cell in book.cells if cell.cell_type == "code" for output in cell.outputs]


def test_there_are_tutorials_for_the_race_the_lock_the_deadlock_the_rlock_the_condition_and_the_queue():
    assert [path.stem for path in TUTORIALS] == ["01-race", "02-lock", "03-deadlock", "04-rlock",
                                                 "05-condition", "06-queue"]


def test_every_tutorial_cell_runs_without_an_error_and_shows_something(executed):
    for name, book in executed.items():
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs, f"{name}: a cell shows nothing: {cell.source[:60]!r}"
                assert all(o.output_type != "error" for o in cell.outputs), f"{name}: {cell.outputs}"


def test_a_result_a_finding_and_a_graph_show_as_html_and_svg(executed):
    shown = [(cell.source, output.get("data", {})) for cell, output in outputs(executed["01-race"])]
    result = next(data for source, data in shown if source.endswith("\nresult"))
    assert result["text/plain"].startswith("<ExplorationResult 'lost update': 6 executions")
    assert '<div class="explorer-nb">' in result["text/html"] and "<svg" in result["text/html"]
    assert result["text/html"].count("<details") == 4  # four findings, folded
    finding = next(data for source, data in shown if source.endswith("\nlost"))
    assert finding["text/plain"].startswith("<Finding error lost-update:")
    assert '<span class="kind">lost-update</span>' in finding["text/html"]
    graph = next(data for source, data in shown if source == "result.state_graph")
    assert graph["text/plain"] == "<state graph: 12 nodes, 14 edges>" and "<svg" in graph["image/svg+xml"]
    lock_order = next(data for _, data in outputs(executed["03-deadlock"]) for data in [data.get("data", {})]
                      if "lock-order graph" in data.get("text/plain", ""))
    assert "<svg" in lock_order["image/svg+xml"]


def test_locations_in_a_notebook_name_the_cell_not_a_temporary_file(executed):
    finding = next(output.data["text/html"] for cell, output in outputs(executed["01-race"])
                   if cell.source.endswith("\nlost"))
    assert re.search(r'<td class="source" title="In\[1\]:4">In\[1\]:4</td>', finding)
    assert "ipykernel" not in finding


def test_printed_text_in_a_notebook_names_the_cell_too_not_the_kernels_temporary_file():
    source = ("from explorer import Scenario, explore, read\n"
              "def fails():\n"
              "    value = yield read('x')\n"
              "    raise TypeError('unsupported operand')\n"
              "result = explore(Scenario('fails', variables={'x': 0}, threads={'A': fails}))\n"
              "print(result)\n"
              "result.findings[0]")
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    execute(book, ROOT)
    printed, shown = book.cells[0].outputs
    assert "at In[1]:4" in printed.text and "ipykernel" not in printed.text, printed.text
    assert "at In[1]:4" in shown.data["text/plain"] and "ipykernel" not in shown.data["text/plain"]


def test_a_picture_shows_as_svg_and_the_step_through_widget_is_a_widget(tmp_path):
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in [
        "from explorer.pictures import draw_swimlane\nfrom explorer import replay\n"
        "from scenarios.counter import lost_update\n"
        "draw_swimlane(replay(lost_update, ['A', 'B', 'B', 'A']).trace)",
        "from explorer.widget import step_through\nbox = step_through(lost_update, goal='lost-update')\nbox",
        "for name in 'ABBA':\n    box.stepper.step(name)\n[f.kind for f in box.stepper.reached]",
    ]])
    execute(book, ROOT)
    picture, widget, reached = (cell.outputs[0] for cell in book.cells)
    assert "<svg" in picture.data["image/svg+xml"]
    assert "application/vnd.jupyter.widget-view+json" in widget.data
    assert reached.data["text/plain"] == "['lost-update', 'race', 'race', 'nonserializable']"


def test_the_rendered_tutorials_open_in_headless_chromium_with_no_error_cell_or_empty_output(executed,
                                                                                             tmp_path):
    from nbconvert import HTMLExporter

    from tests.test_report_html import chromium, run_chromium

    browser = chromium()
    for name, book in executed.items():
        page = tmp_path / f"{name}.html"
        page.write_text(HTMLExporter().from_notebook_node(book)[0], encoding="utf-8")
        dom = run_chromium(browser, tmp_path, "--dump-dom", page.as_uri())
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in dom, name  # an error or a warning
        shown = re.findall(r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>', dom)
        assert len(shown) == len(outputs(book)), name  # every output reached the page
        assert not re.search(r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>\s*</div>', dom), name
        shot = tmp_path / f"{name}.png"
        run_chromium(browser, tmp_path, "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri())
        assert shot.stat().st_size > 20_000, name  # a page with pictures, not a blank one
