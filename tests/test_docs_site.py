"""The documentation: a README that is a landing page, a site that builds strictly with MkDocs
Material, examples that run, and pages that open in a real browser."""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_the_readme_is_a_landing_page_of_at_most_15_kb_that_links_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 15 * 1024
    for heading in ["## Two commands on a fresh machine", "## Five minutes with the counter",
                    "## The scenario language", "## What is not checked"]:
        assert heading in readme
    for link in re.findall(r"\]\((docs/[^)#]+)\)", readme):
        assert (ROOT / link).exists(), link


@pytest.mark.parametrize("page", [p.name for p in PAGES if "```pycon" in p.read_text(encoding="utf-8")])
def test_the_examples_on_each_docs_page_produce_the_output_they_show(page):
    failures, tried = doctest.testfile(str(ROOT / "docs" / page), module_relative=False,
                                       optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", nav, re.MULTILINE))
    assert listed == {p.name for p in PAGES}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built with warnings as errors (a broken link or a page left out fails)."""
    target = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr[-3000:]
    return target


def test_the_site_builds_strictly_with_a_page_for_every_docs_file_and_the_tutorial_notebooks(site):
    for page in PAGES:
        name = "index.html" if page.stem == "index" else f"{page.stem}/index.html"
        assert (site / name).exists(), name
    assert sorted(p.name for p in (site / "tutorial").glob("*.ipynb")) == [
        "01-race.ipynb", "02-lock.ipynb", "03-deadlock.ipynb", "04-rlock.ipynb", "05-condition.ipynb",
        "06-queue.ipynb"]


def test_the_site_pages_open_in_headless_chromium_with_their_title_and_navigation(site, tmp_path):
    from tests.test_report_html import chromium, run_chromium

    browser = chromium()
    for page in PAGES:
        path = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        dom = run_chromium(browser, tmp_path, "--dump-dom", path.as_uri())
        heading = re.search(r"(?m)^# (.+)$", page.read_text(encoding="utf-8"))[1]
        assert re.search(r"<h1[^>]*>", dom) and "The scenario language" in dom, page.name
        assert re.sub(r"`", "", heading).split(":")[0] in re.sub(r"<[^>]+>", "", dom), page.name
    shot = tmp_path / "tutorial.png"
    run_chromium(browser, tmp_path, "--window-size=1200,1600", f"--screenshot={shot}",
                 (site / "tutorial" / "index.html").as_uri())
    assert shot.stat().st_size > 30_000  # a rendered page, not a blank one
