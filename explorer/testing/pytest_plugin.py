"""The pytest plugin: scenarios that state what they teach become test items.

``pytest scenarios/`` collects every module-level ``Scenario(..., expect=Expect(...))``
(and ``program(..., expect=...)``, plain threading code) in the ``.py`` files it is given or finds, explores it, and fails with the findings and
their traces when the result differs from the expectation. Registered through the
``pytest11`` entry point; it imports explorer only inside its hooks, so projects that
never use it pay nothing.

The ``explorer_results`` fixture keeps the results a test hands it; when the test
fails, their JSON, traces and graphs are written under the test's ``tmp_path`` and the
report says where.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: Text a file must contain before the plugin imports it to look for scenarios: an
#: expectation, and a scenario (a generator one, or plain threading code's ``program(``).
_EXPECTS = "expect="
_MAKERS = ("Scenario(", "program(")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("explorer")
    group.addoption("--explorer-max-executions", type=int, default=None,
                    help="explorer: stop each scenario item after this many executions (it then fails, "
                         "since an incomplete exploration proves nothing unless its Expect says complete=False)")


#: explorer's own modules mention ``Scenario(`` and ``expect=`` in their docs; never collect them.
_PACKAGE = Path(__file__).resolve().parent.parent


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix != ".py" or file_path.name.startswith(("test_", "conftest")):
        return None
    if _PACKAGE in file_path.resolve().parents:
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if _EXPECTS not in text or not any(maker in text for maker in _MAKERS):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    """A Python file of scenarios: loading it runs its code, as importing it would."""

    def collect(self):
        from explorer.loading import load_scenarios

        found, failures = load_scenarios([self.path])
        if failures:
            raise self.CollectError(f"explorer could not load {self.path}: {'; '.join(map(str, failures))}")
        for _path, attribute, scenario in found:
            if scenario.expect is not None:
                yield ScenarioItem.from_parent(self, name=attribute, scenario=scenario)


class ScenarioFailed(AssertionError):
    """The exploration of a scenario differs from its expectation."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from explorer.testing import assert_expected

        options = {}
        limit = self.config.getoption("explorer_max_executions")
        if limit is not None:
            options["max_executions"] = limit
        try:
            assert_expected(self.scenario, **options)
        except AssertionError as failure:
            raise ScenarioFailed(str(failure)) from None

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        line = self.scenario.source.rsplit(":", 1)[-1]
        return self.path, int(line) - 1 if line.isdigit() else None, f"scenario {self.scenario.name!r}"


class _Recorder(list):
    """The results a test handed to ``explorer_results``."""

    def __call__(self, result):
        self.append(result)
        return result


@pytest.fixture
def explorer_results(request: pytest.FixtureRequest, tmp_path: Path) -> _Recorder:
    """Call it with each ``ExplorationResult`` a test makes; if the test fails, each
    result's JSON, every finding's trace and the graphs are saved under ``tmp_path``."""
    recorder = _Recorder()
    request.node._explorer_results = (recorder, tmp_path)
    return recorder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    kept = getattr(item, "_explorer_results", None)
    if kept is None or report.when != "call" or not report.failed or not kept[0]:
        return
    recorder, folder = kept
    written = []
    for number, result in enumerate(recorder):
        written += _save(result, folder / f"explorer-{number}-{_slug(result.scenario.name)}")
    report.sections.append(("explorer artifacts", "\n".join(str(path) for path in written)))


def _save(result, folder: Path) -> list[Path]:
    from explorer._files import write_text as _write_text
    from explorer.errors import ExplorerError
    from explorer.export import write_graph

    folder.mkdir(parents=True, exist_ok=True)
    written = [_write_text(folder / "result.json", result.to_json() + "\n")]
    for number, finding in enumerate(result.findings):
        written.append(_write_text(folder / f"finding-{number}-{finding.kind}.txt", finding.render() + "\n"))
    try:
        written.append(write_graph(result.state_graph, folder / "states.graphml"))
        written.append(write_graph(result.state_graph, folder / "states.svg"))
    except ExplorerError as too_large:
        written.append(_write_text(folder / "states-not-drawn.txt", f"{too_large}\n"))
    if result.lock_order:
        written.append(write_graph(result.lock_order_graph, folder / "lock-order.svg"))
    return written


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")[:40] or "scenario"
