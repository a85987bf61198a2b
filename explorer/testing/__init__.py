"""Helpers for users' own tests: explore a scenario and assert what it must show.

Each helper explores, and on failure raises ``AssertionError`` whose message holds the
findings with their traces, so the test report shows the counterexample.

>>> from explorer import Scenario, acquire, read, release, write
>>> def locked_increment():
...     yield acquire("lock")
...     value = yield read("x")
...     yield write("x", value + 1)
...     yield release("lock")
>>> counter = Scenario("locked counter", variables={"x": 0}, locks=["lock"],
...                    threads={"A": locked_increment, "B": locked_increment})
>>> assert_no_findings(counter).executions
2
>>> assert_outcomes(counter, [{"x": 2}]).complete
True

Hypothesis strategies for scenarios and schedules are in
:mod:`explorer.testing.strategies`; the pytest plugin in
:mod:`explorer.testing.pytest_plugin`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import InvalidArgument
from ..expect import Expect
from ..explore import explore
from ..findings import FINDING_KINDS
from ..results import ExplorationResult
from ..scenario import Scenario

__all__ = ["assert_expected", "assert_finds", "assert_no_findings", "assert_outcomes"]


def assert_no_findings(scenario: Scenario, *, warnings: bool = True, **explore_options) -> ExplorationResult:
    """Explore ``scenario`` completely and fail if any finding (or, with
    ``warnings=False``, any error-severity finding) shows up. Returns the result."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    result = _explored(scenario, explore_options)
    shown = [f for f in result.findings if warnings or f.severity == "error"]
    if shown:
        raise AssertionError(_report(scenario, result, f"{len(shown)} finding(s), expected none", shown))
    return result


def assert_outcomes(scenario: Scenario, expected: Iterable[Mapping], **explore_options) -> ExplorationResult:
    """Explore completely and fail unless the final states are exactly ``expected``, and
    no execution fails or deadlocks (as ``Expect(outcomes=expected)`` judges; where one
    may, say so: ``assert_expected(scenario, Expect(outcomes=..., deadlock=True))``)."""
    __tracebackhide__ = True
    if isinstance(expected, Mapping):
        raise InvalidArgument(f"assert_outcomes takes the final states as a list of mappings, such as "
                              f"[{{'x': 1}}, {{'x': 2}}]; got one mapping {dict(expected)!r}: put it in a list")
    return assert_expected(scenario, Expect(outcomes=list(expected)), **explore_options)


def assert_finds(scenario: Scenario, kind: str, **explore_options) -> ExplorationResult:
    """Explore and fail unless some finding of ``kind`` (say ``"deadlock"``) shows up."""
    __tracebackhide__ = True
    if kind not in FINDING_KINDS:
        raise InvalidArgument(f"assert_finds: {kind!r} is not a kind of finding; the kinds are "
                              f"{', '.join(FINDING_KINDS)}")
    result = explore(scenario, **explore_options)
    if any(f.kind == kind for f in result.findings):
        return result  # shown: a search cut short proves it as well as a whole one
    if not result.complete:
        raise AssertionError(f"scenario {scenario.name!r}: no {kind} finding in an exploration that was "
                             f"incomplete ({result.incomplete_reason}), so its absence is not proven")
    kinds = sorted({f.kind for f in result.findings}) or "none"
    raise AssertionError(_report(scenario, result, f"no {kind} finding; found {kinds}", []))


def assert_expected(scenario: Scenario, expect: Expect | None = None, **explore_options) -> ExplorationResult:
    """Explore and fail if the result differs from ``expect`` (default: the scenario's own)."""
    __tracebackhide__ = True
    expect = expect if expect is not None else scenario.expect
    if expect is None:
        raise AssertionError(f"scenario {scenario.name!r} states no expectation: give "
                             f"Scenario(..., expect=Expect(...)) or pass expect=")
    return _expected(scenario, expect, None, explore_options)


def _expected(scenario: Scenario, expect: Expect, hint, options: dict) -> ExplorationResult:
    """:func:`assert_expected`, each trace's replay line made by ``hint`` (None: the Python
    call; the pytest plugin gives the command line's)."""
    __tracebackhide__ = True
    result = explore(scenario, **options)
    problems = expect.problems(result)
    if problems:
        report = _report(scenario, result, "; ".join(problems), result.findings, hint)
        raise AssertionError("\n".join([report, *_unexpected_runs(scenario, expect, result, hint)]))
    return result


#: How many unexpected final states a failure shows a run for.
SHOWN_STATES = 3


def _unexpected_runs(scenario: Scenario, expect: Expect, result: ExplorationResult, hint) -> list[str]:
    """For each final state ``expect`` does not name (a few), a run that ends in it, with
    the line that replays it: found as the shortest path to it in the state graph (none
    where the graph is too large to build)."""
    from ..errors import ExplorerError
    from ..explore import replay
    from ..render import replay_for

    if expect.outcomes is None:
        return []
    wanted = [dict(outcome) for outcome in expect.outcomes]
    unexpected = [state for state in result.final_states if dict(state) not in wanted][:SHOWN_STATES]
    if not unexpected:
        return []
    if result.fair:  # its paths are not the fair search's, and a polling loop makes it vast (seconds)
        return ["  (no run is shown for each unexpected final state: the state graph that finds one "
                "does not keep to fair schedules)"]
    try:
        graph = result.state_graph
    except ExplorerError:
        return []
    order = {name: n for n, name in enumerate(scenario.threads)}

    def first(thread: str) -> tuple:  # the scenario's threads in their order, then the threads they start
        return (order.get(thread, len(order)), thread)

    # breadth first, each state's steps in thread order: the first run to reach a state is
    # the shortest, and of those the one that runs the first thread first
    reached = {0: []}
    frontier = [0]
    while frontier:
        following = []
        for node in frontier:
            steps = sorted(graph.out_edges(node, data="thread"), key=lambda edge: first(edge[2]))
            for _node, after, thread in steps:
                if after not in reached:
                    reached[after] = reached[node] + [thread]
                    following.append(after)
        frontier = following
    lines = []
    for state in unexpected:
        ends = [node for node, data in graph.nodes(data=True)
                if data["terminal"] == "completed" and data.get("outcome") is not None and node in reached
                and data["outcome"].split(", ")[:len(state)] == str(state).split(", ")]
        if not ends:
            continue
        schedule = min((reached[end] for end in ends), key=lambda path: (len(path), [first(t) for t in path]))
        try:  # with the search's max_steps (a fair search returned above)
            run = replay(scenario, schedule, max_steps=result.max_steps)
        except ExplorerError:
            continue
        lines.append(f"  a run that ends in {state}:")
        lines.append("\n".join("  " + line for line in run.trace.render().splitlines()))
        lines.append("  to replay: " + (hint or replay_for(result))(run.trace))
    return lines


def _explored(scenario: Scenario, options: dict) -> ExplorationResult:
    __tracebackhide__ = True
    result = explore(scenario, **options)
    if not result.complete:
        raise AssertionError(f"scenario {scenario.name!r}: exploration was incomplete "
                             f"({result.incomplete_reason}), so it proves nothing")
    return result


def _report(scenario: Scenario, result: ExplorationResult, headline: str, findings, hint=None) -> str:
    """The failure message: what differs, the summary, then each finding with its trace
    and the line that replays it (``hint``: what makes that line; the Python call)."""
    from ..render import replay_for

    hint = hint or replay_for(result)
    lines = [f"{headline}: scenario {scenario.name!r} ({scenario.source})", f"  {result.summary()}"]
    for finding in findings:
        lines.append("\n".join("  " + line for line in finding.render().splitlines()))
        lines.append("  to replay: " + hint(finding.trace))
    return "\n".join(lines)
