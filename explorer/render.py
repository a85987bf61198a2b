"""Text renderings of traces, findings and results, for a terminal.

A trace reads top to bottom, one column per thread, so a person sees the
interleaving at a glance::

    step  A            B
       1  read x -> 0
       2               read x -> 0
       3  write x = 1
       4               write x = 1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings import Trace
    from .results import ExplorationResult

_GAP = "  "


def render_trace(trace: Trace, *, locations: bool = True) -> str:
    if not trace.events and not trace.blocked:
        return "  (no step ran: the execution ended before its first step)"
    threads = list(trace.threads)
    column = {name: c for c, name in enumerate(threads)}
    rows: list[list[str]] = []
    tails: list[str] = []
    for event in trace.events:
        cells = [""] * len(threads)
        cells[column[event.thread]] = event.describe()
        mark = trace.marks.get(event.index)
        rows.append([str(event.index + 1)] + cells + [f"<- {mark}" if mark else ""])
        tails.append((event.location or "") if locations else "")
    if trace.blocked:
        cells = [""] * len(threads)
        for thread, lock in trace.blocked.items():
            cells[column[thread]] = f"BLOCKED {trace.waiting.get(thread) or f'acquire {lock}'}"
        rows.append(["--"] + cells + [""])
        tails.append(", ".join(trace.blocked_at.get(t) or "" for t in trace.blocked) if locations else "")
    header = ["step"] + threads + [""]
    widths = [max(len(row[c]) for row in rows + [header]) for c in range(len(header))]
    lines = [_line(header, widths, "")]
    lines += [_line(row, widths, tail) for row, tail in zip(rows, tails)]
    return "\n".join(lines)


def _line(cells: list[str], widths: list[int], tail: str) -> str:
    first = cells[0].rjust(widths[0])
    rest = _GAP.join(cell.ljust(width) for cell, width in zip(cells[1:], widths[1:]))
    text = f"  {first}{_GAP}{rest}"
    if tail:
        text += f"{_GAP}# {tail}"
    return text.rstrip()


def replay_hint(trace: Trace) -> str:
    """The line that replays a trace."""
    return f"replay(scenario, {list(trace.schedule)!r})"


#: What a reduced search's counts per final state count.
_COUNTED = {
    "dpor": " (counted per trace, not per interleaving: --strategy exhaustive counts those)",
    "stateful": " (counted per run made, not per interleaving: --strategy exhaustive counts those)",
}


def render_result(result: ExplorationResult, *, traces: bool = True) -> str:
    """The summary of an exploration: counts, final states, findings with their traces."""
    lines = [f"scenario {result.scenario.name!r}: {result.summary()}"]
    if not result.complete:
        lines.append(f"  INCOMPLETE: {result.incomplete_reason}; nothing beyond this was checked")
    if result.final_states:
        lines.append(f"  final states{_COUNTED.get(result.strategy, '')}:")
        total = sum(result.final_states.values())
        for state, count in sorted(result.final_states.items(), key=lambda item: -item[1]):
            lines.append(f"    {str(state) or '(no variables)':<30} {count:>8}  ({count / total:.0%})")
    if result.findings:
        lines.append(f"  findings ({len(result.findings)}):")
        for finding in result.findings:
            if traces:
                body = finding.render()
                lines.append("\n".join("    " + line for line in body.splitlines()))
                lines.append("    to replay: " + replay_hint(finding.trace))
            else:
                lines.append(f"    {finding.severity.upper()} [{finding.kind}] {finding.message}")
    else:
        lines.append("  no findings")
    return "\n".join(lines)
