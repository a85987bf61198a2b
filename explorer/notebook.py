"""How explorer's objects show in a notebook: IPython's rich display protocol.

Every object a person looks at has a short ``__repr__`` and a ``_repr_html_`` that calls
the function of this module for its type, which this module hands in to
``explorer._conveniences`` when the package is imported; what the functions draw with
(``report_html``, matplotlib) is imported only when a notebook asks. The HTML reuses the report's cards (``report_html``): a result shows its
counts, its outcomes with shares, and each finding with its swimlane and trace; what is
large stays folded in ``<details>`` until clicked. Pictures (matplotlib figures that
``explorer.pictures`` draws, and explorer's graphs) show as SVG.

>>> from explorer import explore
>>> from scenarios.counter import lost_update
>>> page = explore(lost_update)._repr_html_()
>>> page.startswith('<div class="explorer-nb">'), "lost-update" in page, "<svg" in page
(True, True, True)
>>> page.count("<details")  # the findings, folded: only the first error is open
4
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ._conveniences import provides
from ._text import cells_named
from .errors import ExplorerError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .crosscheck import CrosscheckResult
    from .findings import Finding, FindingGroup, Trace
    from .results import Execution, ExplorationResult
    from .stepping import Stepper

__all__ = ["crosscheck_html", "execution_html", "figure_svg", "finding_html", "graph_svg",
           "result_html", "stepper_html", "trace_html"]

#: Findings drawn as swimlanes in one result; the rest show their text trace only.
MAX_PICTURES = 8
#: Outcome rows shown open; a longer table is folded.
MAX_OPEN_ROWS = 12


@provides
def result_html(result: ExplorationResult) -> str:
    """A result as the report shows one scenario, its findings folded but the first error."""
    from .findings import group_findings
    from .render import replay_for
    from .report_html import (
        _badge,
        _e,
        _expect_banner,
        _expect_verdict,
        _Ids,
        _outcomes_table,
        _verdict_badge,
        _worst,
    )

    ids = _Ids()
    verdict = _expect_verdict(result)  # a lesson's Expect: whether it holds, first
    parts = [(f'<p><strong>{_e(result.scenario.name)}</strong> {_verdict_badge(verdict)} {_badge(_worst(result))} '
              f'<span class="summary">{_e(result.summary())}</span></p>'), _expect_banner(verdict)]
    if not result.complete:
        parts.append(f'<div class="banner incomplete">INCOMPLETE: {_e(result.incomplete_reason)}; nothing '
                     f"beyond this was checked.</div>")
    table = _outcomes_table(result)
    rows = len(result.outcomes) + bool(result.deadlocked) + bool(result.failed) + bool(result.truncated)
    parts.append(table if rows <= MAX_OPEN_ROWS else _fold(f"outcomes ({rows})", table))
    groups = group_findings(result.findings)
    first_error = next((n for n, g in enumerate(groups) if g[0].severity == "error"), None)
    hint = replay_for(result)  # a fair search's line replays fairly
    for number, group in enumerate(groups):
        parts.append(_finding_details(group, ids, open_=number == first_error,
                                      picture=number < MAX_PICTURES, hint=hint))
    if not result.findings:
        parts.append('<p class="banner fine">No findings' + ("" if result.complete else
                                                            " in the part that was explored") + ".</p>")
    return _wrap("\n".join(parts))


@provides
def finding_html(finding: Finding) -> str:
    """One finding as the report's card: message, swimlane, trace, replay line."""
    from .report_html import _finding, _Ids

    return _wrap(_finding("finding", finding, _Ids()))


@provides
def trace_html(trace: Trace) -> str:
    """A trace as its swimlane and, folded, its table of steps."""
    from .report_html import _Ids, _swimlane, _trace_table

    steps = _fold(f"the {len(trace)} steps", _trace_table(trace))
    return _wrap(_swimlane(trace, _Ids(), "the trace") + steps)


@provides
def execution_html(execution: Execution) -> str:
    """One execution (what ``replay`` returns): status, swimlane, steps, outcome, findings."""
    from .report_html import _badge, _e, _Ids, _swimlane, _trace_table

    worst = {f.severity for f in execution.findings}
    badge = _badge("error" if "error" in worst else "warning" if worst else "clean")
    parts = [f"<p><strong>{_e(execution.scenario.name)}</strong> {badge} "
             f'<span class="summary">{_e(execution.status)}, {len(execution.trace)} steps'
             + (f", outcome {_e(execution.outcome)}" if execution.outcome is not None else "")
             + "</span></p>",
             _swimlane(execution.trace, _Ids(), "the execution"), _trace_table(execution.trace)]
    parts += [f'<p class="message">{_badge(f.severity)} <span class="kind">{_e(f.kind)}</span> '
              f"{_e(f.message)}</p>" for f in execution.findings]
    return _wrap("\n".join(parts))


@provides
def crosscheck_html(check: CrosscheckResult) -> str:
    """A cross-check as the report's table: what real threads did, next to the model."""
    from .report_html import _crosscheck, _e

    return _wrap(f"<p><strong>{_e(check.scenario.name)}</strong></p>\n{_crosscheck(check)}")


@provides
def figure_svg(figure: Figure) -> str:
    """A matplotlib figure as the text of an SVG picture."""
    from .report_html import _Ids, _svg

    return _svg(figure, _Ids(), "picture")


@provides
def graph_svg(graph) -> str | None:
    """An explorer graph (state, lock-order, happens-before, wait-for) drawn as SVG, or None
    (IPython then shows the text) when it is too large to draw or of no kind explorer draws."""
    from . import pictures

    kind = graph.graph.get("kind")
    draw = {"state": pictures.draw_state_graph, "lock-order": pictures.draw_lock_order_graph,
            "happens-before": pictures.draw_happens_before}.get(kind)
    if draw is None:
        return None
    try:
        return figure_svg(draw(graph))
    except ExplorerError:
        return None


@provides
def stepper_html(stepper: Stepper) -> str:
    """The position as HTML: a table of threads (status, next step, its line), the shared
    state and locks, the steps so far, and each finding reached."""
    from .findings import Trace
    from .render import display_location
    from .report_html import _badge, _e, _trace_table

    rows = []
    for view in stepper.threads:
        where = display_location(view.location) or ""
        rows.append(f'<tr><td class="kind">{_e(view.name)}</td><td>{_e(view.status)}</td>'
                    f"<td><code>{_e(view.step or '')}</code></td><td><code>{_e(view.line or '')}</code></td>"
                    f'<td class="source">{_e(where.rsplit("/", 1)[-1])}</td></tr>')
    threads = ('<table class="trace"><thead><tr><th>thread</th><th>status</th><th>next step</th>'
               '<th>line</th><th>source</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
    state = ", ".join(f"{name} = {value!r}" for name, value in stepper.state.items()) or "(no variables)"
    held = ", ".join(f"{lock} held by {owner}" for lock, owner in stepper.holders.items())
    parts = [f"<p><strong>{_e(stepper.scenario.name)}</strong>: step {len(stepper.schedule)}; "
             f"shared state <code>{_e(state)}</code>" + (f"; {_e(held)}" if held else "") + "</p>", threads]
    if stepper.events:
        parts.append(_trace_table(Trace(stepper.schedule, stepper.events, stepper.names)))
    for finding in stepper.reached:
        parts.append(f'<p class="message">{_badge(finding.severity)} reached <span class="kind">'
                     f"{_e(finding.kind)}</span>: {_e(finding.message)}</p>")
    if stepper.finished:
        parts.append('<p class="muted">No thread can run: the run is over.</p>')
    return _wrap("\n".join(parts))


# ---------------------------------------------------------------------------------------------


def _finding_details(group: FindingGroup, ids, *, open_: bool, picture: bool, hint=None) -> str:
    """A group of findings (one, or one kind about one subject) as a folded card; ``hint``
    makes its replay line (:func:`.render.replay_for` the result's)."""
    from .render import render_group, replay_hint
    from .report_html import _badge, _e, _swimlane, _trace_table

    first = group[0]
    headline = render_group(group, traces=False)
    summary = headline[0].split("] ", 1)[-1]
    severity = "error" if first.severity == "error" else "warning"
    body = [f'<pre class="message">{_e(chr(10).join(headline[1:]))}</pre>' if len(headline) > 1 else "",
            _swimlane(first.trace, ids, f"the {first.kind} finding", hint) if picture else "",
            _trace_table(first.trace),
            f'<p class="replay">To replay: <code>{_e((hint or replay_hint)(first.trace))}</code></p>']
    return (f'<details class="finding {severity}"{" open" if open_ else ""}><summary>{_badge(severity)} '
            f'<span class="kind">{_e(first.kind)}</span> {_e(summary)}</summary>\n'
            + "\n".join(part for part in body if part) + "\n</details>")


def _fold(title: str, html_text: str) -> str:
    from .report_html import _e

    return f"<details><summary>{_e(title)}</summary>\n{html_text}\n</details>"


def _wrap(body: str) -> str:
    return f'<div class="explorer-nb">\n<style>{_scoped_css()}</style>\n{cells_named(body)}\n</div>'


_MEDIA = re.compile(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_WHOLE = {":root", "html", "body", "main"}
_SCOPE = "div.explorer-nb.explorer-nb"


@lru_cache(maxsize=1)
def _scoped_css() -> str:
    """The report's style sheet, every rule confined to ``.explorer-nb`` so that it styles
    explorer's output and nothing else of the notebook."""
    from .report_html import _CSS

    rules = []
    for selectors, body in _RULE.findall(_MEDIA.sub("", _CSS)):
        scoped = []
        for selector in (s.strip() for s in selectors.split(",")):
            # the class twice outweighs a notebook's own rules for tables (JupyterLab right-aligns
            # every cell with a selector of two classes)
            if selector in _WHOLE:
                scoped.append(_SCOPE)
            else:
                scoped.append(f"{_SCOPE} {selector}")
        rules.append(f"{', '.join(dict.fromkeys(scoped))} {{{body.strip()}}}")
    rules += [f"{_SCOPE} {{ padding: 8px 12px; border-radius: 6px; text-align: left; }}",
              f"{_SCOPE} table {{ table-layout: auto; margin-left: 0; }}",
              f"{_SCOPE} details {{ margin: 8px 0; }} {_SCOPE} summary {{ cursor: pointer; }}",
              f"{_SCOPE} details.finding {{ border: 1px solid var(--line); "
              f"border-left: 6px solid var(--line); border-radius: 6px; padding: 6px 12px; }}",
              f"{_SCOPE} details.finding.error {{ border-left-color: var(--error); }}",
              f"{_SCOPE} details.finding.warning {{ border-left-color: #d9a400; }}"]
    return "\n".join(rules)
