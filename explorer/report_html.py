"""One self-contained HTML page for a set of explorations: readable offline, from a file.

The page holds, per scenario, its summary, an INCOMPLETE banner when a budget stopped
the search, the outcomes with counts and shares, every finding with its swimlane, text
trace and replay line (an invariant broken by several outcomes is one card listing them), the state graph and the lock-order graph, and the cross-check
against real threads when one is given. A table of contents at the top names each
scenario's worst severity.

Nothing is fetched: pictures are inline SVG (text kept as text), the style sheet is
inline, there is no script, and a Content-Security-Policy forbids loading anything,
so the page reads the same offline, attached to a ticket or opened years later. Every
piece of text from a scenario (names, messages, values) is HTML-escaped, and every SVG's
ids get a prefix of their own, so pictures on one page never take each other's clip
paths, markers or hatches.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterator, Sequence
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

from ._text import shown
from .errors import ExplorerError, InvalidArgument

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .crosscheck import CrosscheckResult
    from .findings import Finding, FindingGroup, Trace
    from .results import ExplorationResult

__all__ = ["render_report", "write_report"]


def write_report(path: str | os.PathLike, results: Sequence[ExplorationResult], *,
                 crosschecks: Sequence[CrosscheckResult] = (), title: str | None = None,
                 expect: bool = True) -> Path:
    """Write :func:`render_report`'s page to ``path`` (UTF-8) and return it as a :class:`~pathlib.Path`.

    The file appears whole or not at all: it is written next to its destination and
    renamed into place, so a browser or a web server never sees half a report.
    """
    from ._files import write_text

    return write_text(path, render_report(results, crosschecks=crosschecks, title=title, expect=expect))


def render_report(results: Sequence[ExplorationResult], *, crosschecks: Sequence[CrosscheckResult] = (),
                  title: str | None = None, expect: bool = True) -> str:
    """The report on ``results`` (a list of :class:`~explorer.ExplorationResult`) as one HTML page.

    ``crosschecks`` are :class:`~explorer.CrosscheckResult` objects; each is shown with the
    result of the scenario of the same name, and one that names no result is refused.
    A scenario with an :class:`~explorer.Expect` shows its verdict beside its findings (a
    lesson whose errors are what it teaches reads "expect holds"); ``expect=False`` leaves
    the verdicts out (``explorer run --ignore-expect``).
    ``title`` defaults to "explorer report". The page is deterministic: the same results give
    the same text, except the times the results themselves carry.

    >>> from explorer import explore
    >>> from scenarios.counter import lost_update
    >>> page = render_report([explore(lost_update)], title="Counters <draft>")
    >>> page.startswith("<!DOCTYPE html>"), "<title>Counters &lt;draft&gt;</title>" in page
    (True, True)
    >>> page.count('<article class="finding'), "<svg" in page, "<script" in page
    (4, True, False)
    """
    results = _check_results(results)
    matched = _match_crosschecks(crosschecks, results)
    if title is None:
        title = "explorer report"
    elif not isinstance(title, str):
        raise InvalidArgument(f"title must be a str or None, not {type(title).__name__}")
    ids = _Ids()
    verdicts = [_expect_verdict(result) if expect else None for result in results]
    sections = [_scenario_section(number, result, matched.get(result.scenario.name), ids, verdict)
                for number, (result, verdict) in enumerate(zip(results, verdicts, strict=True), 1)]
    return "\n".join([_head(title), "<body>", "<main>", _header(title, results, matched),
                      _contents(results, matched, verdicts), *sections, _footer(), "</main>", "</body>",
                      "</html>", ""])


def _expect_verdict(result: ExplorationResult) -> tuple[str, str] | None:
    """What the scenario's Expect says of ``result`` (:meth:`Expect.verdict`); None without one."""
    expect = result.scenario.expect
    return None if expect is None else expect.verdict(result)


#: An Expect's verdict as a badge: its class and its words.
_VERDICT_BADGES = {"passed": ("clean", "expect holds"), "failed": ("wrong", "expect fails"),
                   "incomplete": ("incomplete", "expect holds so far")}
#: ... and as the banner above a scenario's findings.
_VERDICT_BANNERS = {"passed": "fine", "failed": "wrong", "incomplete": "incomplete"}


def _expect_banner(verdict: tuple[str, str] | None) -> str:
    """The Expect's sentence as a banner (empty without an Expect)."""
    if verdict is None:
        return ""
    return f'<p class="banner {_VERDICT_BANNERS[verdict[0]]}">{_e(verdict[1][0].upper() + verdict[1][1:])}</p>'


def _verdict_badge(verdict: tuple[str, str] | None) -> str:
    if verdict is None:
        return ""
    css, words = _VERDICT_BADGES[verdict[0]]
    return f'<span class="badge {css}">{words}</span>'



# ---------------------------------------------------------------------------------------------
# Checks


def _check_results(results) -> list[ExplorationResult]:
    from .results import ExplorationResult

    if isinstance(results, ExplorationResult):
        raise InvalidArgument("render_report takes a list of results; wrap one result in a list: "
                              "render_report([result])")
    if isinstance(results, str | bytes) or not isinstance(results, Sequence | Iterator | set | frozenset):
        raise InvalidArgument(f"results must be a list of ExplorationResult, as explore() returns them, "
                              f"not {type(results).__name__}")
    results = list(results)
    for position, result in enumerate(results):
        if not isinstance(result, ExplorationResult):
            raise InvalidArgument(f"results[{position}] is a {type(result).__name__}, not an "
                                  f"ExplorationResult; pass what explore(scenario) returns")
    return results


def _match_crosschecks(crosschecks, results) -> dict[str, CrosscheckResult]:
    from .crosscheck import CrosscheckResult

    if isinstance(crosschecks, CrosscheckResult):
        crosschecks = [crosschecks]
    names = {result.scenario.name for result in results}
    matched: dict[str, CrosscheckResult] = {}
    for position, check in enumerate(crosschecks):
        if not isinstance(check, CrosscheckResult):
            raise InvalidArgument(f"crosschecks[{position}] is a {type(check).__name__}, not a "
                                  f"CrosscheckResult; pass what crosscheck(scenario) returns")
        name = check.scenario.name
        if name not in names:
            raise InvalidArgument(f"the cross-check of {name!r} matches no result: cross-checks are shown "
                                  f"with the result of the scenario of the same name; add "
                                  f"explore(scenario) to the results")
        if name in matched:
            raise InvalidArgument(f"two cross-checks of {name!r}: pass one per scenario")
        matched[name] = check
    return matched


# ---------------------------------------------------------------------------------------------
# The page around the scenarios

_CSS = """
:root {
  color-scheme: light;
  --text: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --link: #0b5cad;
  --error: #a63c06; --error-bg: #fff1e9; --warning: #7a5800; --warning-bg: #fff6d9;
  --ok: #17693a; --ok-bg: #e8f5ec; --wrong: #b00020; --wrong-bg: #ffe3e6;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #ffffff; color: var(--text); line-height: 1.5; font-size: 16px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 64px; }
a { color: var(--link); }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 1.45rem; line-height: 1.25; margin: 0 0 6px; overflow-wrap: anywhere; }
h3 { font-size: 1.1rem; margin: 28px 0 10px; }
p { margin: 6px 0 10px; }
code, pre {
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono",
    "Liberation Mono", monospace;
  font-size: 0.86rem;
}
pre {
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  margin: 8px 0; overflow-x: auto; line-height: 1.4;
}
.lede { color: var(--muted); margin: 0 0 20px; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 0.93rem; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.label { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 0.86rem; }
.bar { display: inline-block; height: 0.7em; background: #0072b2; border-radius: 2px; vertical-align: middle;
  margin-right: 6px; }
tr.flagged td { background: var(--warning-bg); }
tr.ended td { color: var(--muted); font-style: italic; }
tr.verdict-expected td.verdict { color: var(--ok); }
tr.verdict-flagged td { background: var(--warning-bg); }
tr.verdict-flagged td.verdict { color: var(--warning); font-weight: 600; }
tr.verdict-unexpected td { background: var(--wrong-bg); color: var(--wrong); font-weight: 700; }
.badge {
  display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 0.78rem; font-weight: 700;
  letter-spacing: 0.03em; text-transform: uppercase; border: 1px solid transparent; white-space: nowrap;
}
.badge.error { background: var(--error); color: #ffffff; }
.badge.warning { background: var(--warning-bg); color: var(--warning); border-color: #e2c15a; }
.badge.clean { background: var(--ok-bg); color: var(--ok); border-color: #9dd1ae; }
.badge.incomplete { background: #ffffff; color: var(--wrong); border-color: var(--wrong); }
.badge.wrong { background: var(--wrong); color: #ffffff; }
.kind { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-weight: 700; }
nav.contents { border: 1px solid var(--line); border-radius: 8px; padding: 12px 18px; margin: 0 0 28px; }
nav.contents h2 { font-size: 1.05rem; margin: 0 0 6px; }
nav.contents ol { margin: 0; padding-left: 1.4em; }
nav.contents li { margin: 4px 0; }
nav.contents li .badge { margin-left: 8px; }
nav.contents .counts { color: var(--muted); font-size: 0.9rem; margin-left: 8px; }
section.scenario { border-top: 3px solid var(--text); padding-top: 18px; margin-top: 40px; }
.summary { color: var(--muted); }
.banner { border-radius: 6px; padding: 10px 14px; margin: 10px 0 14px; font-weight: 600; }
.banner.incomplete { background: var(--wrong-bg); color: var(--wrong); border: 2px solid var(--wrong); }
.banner.wrong { background: var(--wrong); color: #ffffff; font-size: 1.1rem; }
.banner.fine { background: var(--ok-bg); color: var(--ok); }
.banner.stopped { background: var(--warning-bg); color: var(--warning); border: 1px solid #e2c15a; }
article.finding { border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px;
  padding: 12px 16px; margin: 14px 0 20px; }
article.finding.error { border-left-color: var(--error); }
article.finding.warning { border-left-color: #d9a400; }
article.finding h4 { margin: 0 0 6px; font-size: 1rem; display: flex; flex-wrap: wrap; gap: 8px;
  align-items: center; }
article.finding h4 .occurrences { font-weight: 400; color: var(--muted); font-size: 0.9rem; }
.message { overflow-wrap: anywhere; }
figure.picture { margin: 12px 0; }
figure.picture svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure.picture svg * { stroke-linejoin: round; stroke-linecap: butt; }
figcaption { color: var(--muted); font-size: 0.9rem; text-align: center; margin-top: 4px; }
.note { background: var(--panel); border: 1px dashed var(--line); border-radius: 6px; padding: 10px 14px; }
.replay { margin: 6px 0 0; overflow-wrap: anywhere; }
table.trace { width: 100%; table-layout: auto; font-size: 0.86rem; }
table.trace th, table.trace td { padding: 3px 8px; }
table.trace th { white-space: normal; overflow-wrap: anywhere; }
table.trace th.num { white-space: nowrap; overflow-wrap: normal; }
table.trace td code { white-space: pre-wrap; overflow-wrap: anywhere; }
table.trace td.step { min-width: 14ch; }
table.trace td.mark { color: var(--error); font-weight: 600; min-width: 11ch; max-width: 18ch; overflow-wrap: anywhere; }
table.trace td.source { color: var(--muted); font-size: 0.8rem; white-space: nowrap; }
table.trace tr.marked td { background: var(--error-bg); }
table.trace tr.blocked td { color: var(--wrong); font-weight: 600; }
.top { font-size: 0.85rem; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line);
  padding-top: 10px; }
@media print { section.scenario { break-before: page; } a.top { display: none; } }
"""

#: States above which a report's state graph shows only the paths to findings and the steps off them.
COLLAPSE_ABOVE = 60

# No script, and nothing may be loaded: the page is all there is.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _head(title: str) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="explorer">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
    ])


def _header(title: str, results, matched) -> str:
    errors = sum(1 for r in results for f in r.findings if f.severity == "error")
    warnings = sum(1 for r in results for f in r.findings if f.severity != "error")
    incomplete = sum(1 for r in results if not r.complete)
    parts = [_count(len(results), "scenario"), _count(errors, "error finding"),
             _count(warnings, "warning")]
    if matched:
        parts.append(f"{_count(len(matched), 'cross-check')} on real threads")
    if incomplete:
        parts.append(f"{incomplete} INCOMPLETE")
    return (f"<header>\n<h1>{_e(title)}</h1>\n"
            f'<p class="lede">{_e(", ".join(parts))}. Every interleaving of each scenario\'s steps '
            f"was explored, within its budgets; each finding comes with the trace that shows it and "
            f"the line that replays it.</p>\n</header>")


def _contents(results, matched, verdicts) -> str:
    if not results:
        return '<p class="note">No results: nothing was explored.</p>'
    items = []
    for number, (result, verdict) in enumerate(zip(results, verdicts, strict=True), 1):
        worst = _worst(result)
        errors = sum(1 for f in result.findings if f.severity == "error")
        warnings = len(result.findings) - errors
        counts = ", ".join(part for part in (_count(errors, "error") if errors else "",
                                             _count(warnings, "warning") if warnings else "") if part)
        badges = [_verdict_badge(verdict), _badge(worst)]
        if not result.complete:
            badges.append('<span class="badge incomplete">incomplete</span>')
        check = matched.get(result.scenario.name)
        if check is not None and check.unexpected:
            badges.append('<span class="badge wrong">model is wrong</span>')
        items.append(f'<li><a href="#{_sid(number)}">{_e(result.scenario.name)}</a>{"".join(badges)}'
                     + (f'<span class="counts">{_e(counts)}</span>' if counts else "") + "</li>")
    return ('<nav class="contents" id="contents-top" aria-label="Contents">\n<h2>Contents</h2>\n<ol>\n'
            + "\n".join(items) + "\n</ol>\n</nav>")


def _footer() -> str:
    from ._version import __version__

    return (f"<footer>Made by explorer {_e(__version__)}. This page is self-contained: no script, "
            f"and nothing is loaded from elsewhere.</footer>")


# ---------------------------------------------------------------------------------------------
# One scenario


def _scenario_section(number: int, result: ExplorationResult, check: CrosscheckResult | None, ids,
                      verdict: tuple[str, str] | None = None) -> str:
    sid = _sid(number)
    parts = [f'<section class="scenario" id="{sid}" aria-labelledby="{sid}-name">',
             f'<h2 id="{sid}-name">{_e(result.scenario.name)} {_verdict_badge(verdict)} {_badge(_worst(result))}</h2>',
             f'<p class="summary">{_e(result.summary())}</p>']
    parts.append(_expect_banner(verdict))
    if not result.complete:
        parts.append(f'<div class="banner incomplete" role="alert">INCOMPLETE: {_e(result.incomplete_reason)}; '
                     f"nothing beyond this was checked, and what is missing may hold findings.</div>")
    parts.append(_outcomes_table(result))
    parts.append(f"<h3>Findings ({len(result.findings)})</h3>")
    if result.findings:
        from .findings import group_findings
        from .render import replay_for

        hint = replay_for(result)
        parts += [_group(f"{sid}-f{n}", group, ids, hint)
                  for n, group in enumerate(group_findings(result.findings), 1)]
    else:
        parts.append('<p class="banner fine">No findings'
                     + ("" if result.complete else " in the part that was explored") + ".</p>")
    parts.append(_state_graph(result, ids))
    lock_order = _lock_order(result, ids)
    if lock_order:
        parts.append(lock_order)
    if check is not None:
        parts.append(_crosscheck(check))
    parts.append('<p><a class="top" href="#contents-top">&uarr; contents</a></p>')
    parts.append("</section>")
    return "\n".join(parts)


def _outcomes_table(result: ExplorationResult) -> str:
    total = result.executions
    if not total:
        return '<p class="note">No execution ran.</p>'
    flags = _outcome_flags(result)
    rows = []
    for outcome, times in sorted(result.outcomes.items(), key=lambda item: (-item[1], _outcome_label(item[0]))):
        kinds = flags.get(outcome, [])
        flagged = " ".join(f'<span class="kind">{_e(kind)}</span>' for kind in kinds)
        rows.append(_row(("flagged" if kinds else ""), _outcome_label(outcome), times, total, flagged))
    found = {finding.kind for finding in result.findings}
    for times, word, kind in ((result.deadlocked, "deadlocked (no final state)", "deadlock"),
                              (result.failed, "failed: a thread raised or misused a step", "error"),
                              (result.truncated, "cut short at max_steps", "max-steps")):
        if times:
            flagged = f'<span class="kind">{kind}</span>' if kind in found else ""
            rows.append(_row("ended", word, times, total, flagged))
    head = ('<tr><th scope="col">outcome (final state, return values)</th><th class="num" scope="col">'
            'executions</th><th class="num" scope="col">share</th><th scope="col">flagged by</th></tr>')
    return (f"<h3>Outcomes of {_count(total, 'execution')}</h3>\n"
            f'<div class="scroll"><table class="outcomes">\n<thead>{head}</thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table></div>")


def _row(css: str, label: str, times: int, total: int, flagged: str) -> str:
    share = times / total
    bar = f'<span class="bar" style="width:{max(1, round(share * 80))}px"></span>'
    return (f'<tr class="{css}"><td class="label">{_e(label)}</td><td class="num">{times}</td>'
            f'<td class="num">{bar}{share:.1%}</td><td>{flagged}</td></tr>')


def _outcome_flags(result: ExplorationResult) -> dict:
    """The kinds of the findings about each outcome: those that name it, or its final state."""
    from .outcomes import State, outcome_key

    by_key: dict = {}
    for finding in result.findings:
        key = finding.details.get("outcome")
        if key is not None:
            by_key.setdefault(("outcome", outcome_key(tuple(key[0]), tuple(key[1]))), []).append(finding.kind)
        subject = finding.details.get("subject")
        if isinstance(subject, State):
            by_key.setdefault(("state", subject), []).append(finding.kind)
    flags = {}
    for outcome in result.outcomes:
        key = ("outcome", outcome_key(tuple(outcome.state.values()), tuple(outcome.returns.values())))
        kinds = by_key.get(key, []) + by_key.get(("state", outcome.state), [])
        if kinds:
            flags[outcome] = list(dict.fromkeys(kinds))
    return flags


def _finding(fid: str, finding: Finding, ids, hint=None) -> str:
    """One finding as a card: what went wrong, its swimlane, its trace, the replay line."""
    from .findings import chosen_trace

    times = finding.occurrences
    occurrences = f"in {_count(times, 'execution')}" + (f"; the trace {chosen_trace(finding.kind)}" if times > 1
                                                         else "")
    return _card(fid, finding, occurrences, [f'<p class="message">{_e(finding.message)}</p>'], ids, hint)


def _group(fid: str, group: FindingGroup, ids, hint=None) -> str:
    """Findings of one kind about one subject as one card: an invariant broken by several
    outcomes lists each with its count, then shows the first one's trace."""
    if len(group) == 1:
        return _finding(fid, group[0], ids, hint)
    rows = "\n".join(f'<tr><td class="label">{_e(outcome)}</td><td class="num">{runs}</td></tr>'
                     for outcome, runs in group.outcomes)
    head = '<tr><th scope="col">outcome</th><th class="num" scope="col">executions</th></tr>'
    parts = [f'<p class="message">{_e(group.summary)}:</p>',
             f'<div class="scroll"><table class="broken">\n<thead>{head}</thead>\n<tbody>\n{rows}\n'
             f"</tbody>\n</table></div>"]
    if group.serial is not None:
        parts.append(f'<p class="message">Serial outcomes: {_e(group.serial)}</p>')
    parts.append(f'<p class="muted">The first, {_e(group.outcomes[0][0])}, step by step:</p>')
    times = sum(finding.occurrences for finding in group)
    return _card(fid, group[0], f"in {_count(times, 'execution')}", parts, ids, hint)


def _card(fid: str, finding: Finding, occurrences: str, said: list[str], ids, hint=None) -> str:
    """A finding's card: its heading, what is ``said`` about it, then its trace's swimlane,
    table and replay line (``hint`` makes it: :func:`.render.replay_for` the result's)."""
    from .render import replay_hint

    severity = "error" if finding.severity == "error" else "warning"
    picture = _swimlane(finding.trace, ids, f"the {finding.kind} finding", hint)
    return "\n".join([
        f'<article class="finding {severity}" id="{fid}">',
        (f'<h4>{_badge(severity)} <span class="kind">{_e(finding.kind)}</span>'
         f'<span class="occurrences">{_e(occurrences)}</span></h4>'),
        *said,
        picture,
        _trace_table(finding.trace),
        f'<p class="replay">To replay: <code>{_e((hint or replay_hint)(finding.trace))}</code></p>',
        "</article>",
    ])


def _swimlane(trace: Trace, ids, what: str, hint=None) -> str:
    """The trace's swimlane as a figure (``hint`` makes its replay line), or a note saying
    why it is not drawn."""
    from .pictures import draw_swimlane

    try:
        return _figure(_svg(draw_swimlane(trace, replay=None if hint is None else hint(trace)), ids,
                            f"swimlane of {what}"))
    except ExplorerError as error:
        return f'<p class="note">swimlane not drawn: {_e(str(error))}</p>'


def _trace_table(trace: Trace) -> str:
    """The steps as a table that fits its card: one row per step (a polling loop's
    repeats folded, as in the text), one column per thread, then what the step did for the
    finding and its source line (the file's name; the whole path on hover), every cell
    wrapping rather than scrolling."""
    threads = list(trace.threads)
    head = ('<tr><th class="num" scope="col">step</th>' + "".join(f'<th scope="col">{_e(t)}</th>'
                                                                  for t in threads)
            + '<th scope="col"></th><th scope="col">source</th></tr>')
    from .render import step_rows

    rows = []
    for event, said, times in step_rows(trace):  # a polling loop's repeats: one row
        if times > 1:
            said = f"{said} ({times:,} times)"
        cells = "".join(f'<td class="step"><code>{_e(said)}</code></td>' if t == event.thread
                        else '<td class="step"></td>' for t in threads)
        mark = trace.marks.get(event.index)
        css = ' class="marked"' if mark else ""
        note = _e("<- " + mark) if mark else ""
        number = f"{event.index + 1}" if times == 1 else f"{event.index + 1}-{event.index + times}"
        rows.append(f'<tr{css}><td class="num">{number}</td>{cells}'
                    f'<td class="mark">{note}</td>{_source(event.location)}</tr>')
    if trace.blocked:
        waits = {t: trace.waiting.get(t) or f"acquire {lock}" for t, lock in trace.blocked.items()}
        cells = "".join(f'<td class="step"><code>BLOCKED {_e(waits[t])}</code></td>' if t in waits
                        else '<td class="step"></td>' for t in threads)
        where = ", ".join(trace.blocked_at.get(t) or "" for t in trace.blocked)
        rows.append(f'<tr class="blocked"><td class="num">--</td>{cells}<td></td>{_source(where)}</tr>')
    if not rows:
        return '<p class="note">No step ran: the execution ended before its first step.</p>'
    return (f'<table class="trace">\n<thead>{head}</thead>\n<tbody>\n' + "\n".join(rows)
            + "\n</tbody>\n</table>")


def _source(location: str | None) -> str:
    from .render import display_location

    if not location:
        return '<td class="source"></td>'
    # a deadlock's last row names where each blocked thread waits: "a.py:3, b.py:7"
    places = [display_location(place) or place for place in location.split(", ")]
    shown_as = ", ".join(places)
    short = ", ".join(place.rsplit("/", 1)[-1] for place in places)
    return f'<td class="source" title="{_e(shown_as)}">{_e(short)}</td>'


#: States the report builds a scenario's state graph to before it says the graph is too
#: large to draw there: a larger one would be drawn only along the findings' paths, and
#: building it replays the state space (20,000 states of a counter took minutes).
REPORT_MAX_STATES = 1_000


def _state_graph(result: ExplorationResult, ids) -> str:
    from .graphs import path_of, state_graph
    from .pictures import draw_state_graph

    head = "<h3>State graph</h3>"
    try:
        graph = result._cache.get("state_graph")  # built already: the whole graph
        if graph is None:
            graph = result._cache["state_graph"] = state_graph(  # complete, so kept
                result.scenario, max_states=REPORT_MAX_STATES, max_steps=result.max_steps)
        paths = []
        for finding in result.findings:
            try:
                walk = path_of(graph, finding.trace)
            except ExplorerError:
                continue  # a trace the state graph cannot follow (nondeterminism): no path drawn
            if walk not in paths:
                paths.append(walk)
        svg = _svg(draw_state_graph(graph, paths=paths, collapse_above=COLLAPSE_ABOVE), ids,
                   f"state graph of {result.scenario.name}")
    except ExplorerError as error:  # GraphTooLarge above all: say why, draw nothing
        return f'{head}\n<p class="note">The state graph is not drawn: {_e(str(error))}</p>'
    caption = None
    if paths:
        caption = (f"The highlighted paths are the traces of the findings ({len(paths)} "
                   f"path{'s' if len(paths) != 1 else ''}).")
        if graph.number_of_nodes() > COLLAPSE_ABOVE:
            caption += (f" The graph has {graph.number_of_nodes()} states; only those on the paths and the "
                        f"steps leaving them are drawn.")
    return f"{head}\n{_figure(svg, caption)}"


def _lock_order(result: ExplorationResult, ids) -> str | None:
    from .pictures import draw_lock_order_graph

    if not result.scenario.locks or not result.lock_order:
        return None
    graph = result.lock_order_graph
    if not graph.number_of_edges():
        return None
    svg = _svg(draw_lock_order_graph(graph), ids, f"lock-order graph of {result.scenario.name}")
    cycles = graph.graph.get("cycles") or []
    caption = (f"{_count(len(cycles), 'potential-deadlock cycle')} highlighted." if cycles
               else "No cycle: the locks are always taken in a consistent order.")
    return f"<h3>Lock order</h3>\n{_figure(svg, caption)}"


def _crosscheck(check: CrosscheckResult) -> str:
    from .crosscheck import FLAGGED, NOT_EXPLORED, SWITCH_INTERVAL, UNEXPECTED

    setting = (f"{check.runs} runs, seed {check.seed}, {check.elapsed:.2f}s (switch interval "
               f"{SWITCH_INTERVAL:g}s, sleep(0) between steps with p={check.switch_probability:g})")
    parts = ["<h3>Cross-check on real threads</h3>",
             f'<p class="summary">{setting}. Real threads are sampled, not enumerated.</p>']
    if check.unexpected:
        parts.append(f'<div class="banner wrong" role="alert">MODEL IS WRONG: real threads did '
                     f"{_count(len(check.unexpected), 'thing')} exploration never produced (UNEXPECTED "
                     f"below).</div>")
    if check.stopped_early:
        parts.append(f'<div class="banner stopped">STOPPED EARLY: {_e(check.stopped_early)}</div>')
    rows = []
    for row in check.rows:
        css = {UNEXPECTED: "unexpected", FLAGGED: "flagged", NOT_EXPLORED: "flagged"}.get(row.verdict, "expected")
        verdict = row.verdict + (f" ({', '.join(row.flagged_by)})" if row.flagged_by else "")
        rows.append(f'<tr class="verdict-{css}"><td class="label">{_e(row.label)}</td>'
                    f'<td class="num">{row.count}</td><td class="num">{row.count / max(check.runs, 1):.1%}</td>'
                    f'<td class="num">{row.explored}</td><td class="verdict">{_e(verdict)}</td></tr>')
    head = ('<tr><th scope="col">observed on real threads</th><th class="num" scope="col">runs</th>'
            '<th class="num" scope="col">share</th><th class="num" scope="col">explored</th>'
            '<th scope="col">verdict</th></tr>')
    parts.append(f'<div class="scroll"><table class="crosscheck">\n<thead>{head}</thead>\n<tbody>\n'
                 + "\n".join(rows) + "\n</tbody>\n</table></div>")
    explored = len(check.model.outcomes)
    missed = check.missed
    coverage = (f"Coverage: real threads reached {explored - len(missed)} of the {explored} outcomes "
                f"exploration found" + ("" if check.model.complete else " (exploration was INCOMPLETE)") + ".")
    parts.append(f"<p>{_e(coverage)}</p>")
    if missed:
        parts.append("<ul>" + "".join(f'<li>never observed: <code>{_e(_outcome_label(o))}</code></li>'
                                      for o in missed) + "</ul>")
    if not check.unexpected:
        parts.append('<p class="banner fine">No unexpected outcome: every observation is one exploration '
                     "predicted.</p>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Inline SVG

_ID = re.compile(r'\bid="([^"]+)"')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
# The SVG's own style sheet is one rule for every element, which inline would apply to the whole
# page; the page's style sheet applies it to the pictures only (figure.picture svg *).
_SVG_STYLE = re.compile(r'<style type="text/css">\*\{stroke-linejoin: round; stroke-linecap: butt\}</style>\s*')


class _Ids:
    """Prefixes for the ids of the pictures on one page: p1-, p2-, ..."""

    def __init__(self) -> None:
        self._numbers = count(1)

    def prefix(self) -> str:
        return f"p{next(self._numbers)}-"


def _svg(figure: Figure, ids: _Ids, label: str) -> str:
    """``figure`` as an ``<svg>`` element to put in HTML: no XML prolog, no metadata, its ids
    (clip paths, markers, hatches, element ids) prefixed so that they are unique on the page."""
    from .pictures import _style

    buffer = io.StringIO()
    with _style():  # the settings save_figure uses: text stays text, ids are fixed
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    assert start >= 0, "[explorer internal bug] matplotlib wrote an SVG without an <svg> element"
    text = _SVG_STYLE.sub("", _METADATA.sub("", text[start:], count=1), count=1)
    for gid, title in getattr(figure, "hover_titles", {}).items():  # the whole text of a shortened label
        text = text.replace(f'<g id="{gid}">', f'<g id="{gid}">\n<title>{_e(title)}</title>', 1)
    names = set(_ID.findall(text))
    if names:
        prefix = ids.prefix()
        alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        reference = re.compile(rf'(\bid="|href="#|url\(#)({alternatives})(?=[")])')
        text = reference.sub(lambda match: f"{match[1]}{prefix}{match[2]}", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{_e(label)}" ', 1).rstrip()


def _figure(svg: str, caption: str | None = None) -> str:
    caption_html = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure class="picture">\n{svg}\n{caption_html}</figure>'


# ---------------------------------------------------------------------------------------------
# Small pieces


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sid(number: int) -> str:
    return f"scenario-{number}"


def _worst(result: ExplorationResult) -> str:
    severities = {finding.severity for finding in result.findings}
    return "error" if "error" in severities else "warning" if severities else "clean"


def _badge(severity: str) -> str:
    text = {"error": "error", "warning": "warning", "clean": "no findings"}[severity]
    return f'<span class="badge {severity}">{text}</span>'


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _outcome_label(outcome) -> str:
    parts = [f"{name}={shown(value)}" for name, value in outcome.state.items()]
    parts += [f"{name} returned {shown(value)}" for name, value in outcome.returns.items() if value is not None]
    return ", ".join(parts) or "(no variables)"
