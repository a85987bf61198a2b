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

import argparse
import ast
from pathlib import Path

import pytest

#: Text a file must contain before the plugin reads it any further: an expectation.
_EXPECTS = "expect="


def _executions(text: str) -> int:
    # the command line's whole-number type (cli._whole), written again: pytest_addoption
    # runs in every project that has explorer installed, and importing explorer there
    # would make projects that never use it pay for it
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("explorer")
    group.addoption("--explorer-max-executions", type=_executions, default=None,
                    help="explorer: stop each scenario item after this many executions (it then fails, "
                         "since an incomplete exploration proves nothing unless its Expect says complete=False)")
    group.addoption("--explorer-fair", action="store_true", default=False,
                    help="explorer: explore fair schedules only, as 'explorer run --fair' does (a thread "
                         "that sleeps or times out lets the others run first, so polling loops end); each "
                         "failure's replay command says --fair")


#: explorer's own modules mention ``Scenario(`` and ``expect=`` in their docs; never collect them.
_PACKAGE = Path(__file__).resolve().parent.parent


def _scenario_file(file_path: Path) -> bool:
    """Whether the plugin collects this file's scenarios: a ``.py`` file outside explorer
    that mentions ``expect=`` and imports explorer. Only its text is read to decide: a
    file that does not import explorer (a script that does its work at import) is never
    run."""
    if file_path.suffix != ".py" or _PACKAGE in file_path.resolve().parents:
        return False
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if _EXPECTS not in text or "explorer" not in text:
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return True  # imported, it says what is wrong with it
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "explorer" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "explorer":
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    # test files are pytest's modules (their scenarios: pytest_pycollect_makeitem); a file
    # named on the command line too (pytest_pycollect_makemodule), so that none is collected twice
    if file_path.name.startswith(("test_", "conftest")) or parent.session.isinitpath(file_path):
        return None
    if not _scenario_file(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent):
    """A lesson file named on the command line is collected as a file of scenarios, not
    also imported a second time as a module of tests."""
    if module_path.name.startswith(("test_", "conftest")) or not _scenario_file(module_path):
        return None
    return ScenarioFile.from_parent(parent, path=module_path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name: str, obj):
    """A scenario with an Expect in a test module is a test item too, once (an alias or
    a scenario imported from another file is not collected again here)."""
    from explorer.scenario import Scenario

    if not isinstance(obj, Scenario) or obj.expect is None or not isinstance(collector, pytest.Module):
        return None
    seen = collector.__dict__.setdefault("_explorer_seen", set())
    if id(obj) in seen or not _defined_in(obj, collector.path):
        return []
    seen.add(id(obj))
    return ScenarioItem.from_parent(collector, name=name, scenario=obj)


def _defined_in(scenario, path: Path) -> bool:
    """Whether ``scenario`` was made in the file at ``path`` (its source is ``file:line``)."""
    where = scenario.source.rsplit(":", 1)[0]
    try:
        return Path(where).resolve() == path.resolve()
    except OSError:
        return True


class ScenarioFile(pytest.File):
    """A Python file of scenarios: loading it runs its code, as importing it would."""

    def collect(self):
        from explorer.loading import load_scenarios

        found, failures = load_scenarios([self.path])
        if failures:
            raise self.CollectError("; ".join(map(str, failures)))
        seen = set()
        for _path, attribute, scenario in found:
            # once, under its first name, and only where it was made (not where it was imported)
            if scenario.expect is not None and id(scenario) not in seen and _defined_in(scenario, self.path):
                seen.add(id(scenario))
                yield ScenarioItem.from_parent(self, name=attribute, scenario=scenario)


class ScenarioFailed(AssertionError):
    """The exploration of a scenario differs from its expectation."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.extra_keyword_matches.add(scenario.name)  # -k matches its title too, as explorer run -k does

    def runtest(self) -> None:
        import warnings

        from explorer.cli import _command_hint
        from explorer.testing import _expected

        options = {}
        limit = self.config.getoption("explorer_max_executions")
        if limit is not None:
            options["max_executions"] = limit
        fair = self.config.getoption("explorer_fair")
        if fair:
            options["fair"] = True
        try:  # each trace's line that replays it is the command, as explorer run prints it
            result = _expected(self.scenario, self.scenario.expect,
                               _command_hint(self.path, self.name, fair=fair), options)
        except AssertionError as failure:
            raise ScenarioFailed(str(failure)) from None
        # what explorer run would not call a pass either
        if result.complete and not result.steps and not result.findings:
            raise ScenarioFailed(f"scenario {self.scenario.name!r} ({self.scenario.source}) checked nothing: no "
                                 f"thread took a step (each returned before its first yield), so no "
                                 f"interleaving was explored")
        blind = _quick_untracked(self.scenario, result)
        if blind:
            raise ScenarioFailed(f"scenario {self.scenario.name!r} ({self.scenario.source}): untracked shared "
                                 f"state, of which no interleaving was explored, so the Expect proves nothing "
                                 f"about it: " + "; ".join(map(str, blind)))
        if not result.complete:
            warnings.warn(f"scenario {self.scenario.name!r}: the exploration was cut short "
                          f"({result.incomplete_reason}), which its Expect accepts (complete=False)", stacklevel=1)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        line = self.scenario.source.rsplit(":", 1)[-1]
        return self.path, int(line) - 1 if line.isdigit() else None, f"scenario {self.scenario.name!r}"


def _quick_untracked(scenario, result) -> list:
    """For a plain program, the quick look for untracked shared state that explorer run
    takes (none after a search that stopped short of its runs)."""
    if getattr(scenario, "plain", None) is None or result.stop_reason not in (None, "max_executions"):
        return []
    from explorer.cli import QUICK_UNTRACKED_RUNS, QUICK_UNTRACKED_SECONDS
    from explorer.errors import ExplorerError
    from explorer.plain.untracked import look

    try:
        blind, _stop_reason = look(scenario, QUICK_UNTRACKED_RUNS, 0, QUICK_UNTRACKED_SECONDS)
    except ExplorerError:
        return []
    return blind


class _Recorder(list):
    """The results a test handed to ``explorer_results``."""

    def __call__(self, result):
        from explorer.results import ExplorationResult

        if not isinstance(result, ExplorationResult):
            raise TypeError(f"explorer_results keeps what explore() returns (an ExplorationResult), got "
                            f"{type(result).__name__}: call it with explore(...)'s result")
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
        try:
            written += _save(result, folder / f"explorer-{number}-{_slug(result.scenario.name)}")
        except Exception as exc:  # noqa: BLE001 - the test's own failure is the report; never an internal error
            written.append(f"result {number} could not be saved: {type(exc).__name__}: {exc}")
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
