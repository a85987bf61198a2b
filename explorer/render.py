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

from ._conveniences import provides
from ._text import cell_location
from .findings import FindingGroup, group_findings

if TYPE_CHECKING:
    from .findings import Trace
    from .results import ExplorationResult

_GAP = "  "


@provides
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
        tails.append((display_location(event.location) or "") if locations else "")
    if trace.blocked:
        cells = [""] * len(threads)
        for thread, lock in trace.blocked.items():
            cells[column[thread]] = f"BLOCKED {trace.waiting.get(thread) or f'acquire {lock}'}"
        rows.append(["--"] + cells + [""])
        tails.append(", ".join(display_location(trace.blocked_at.get(t)) or "" for t in trace.blocked)
                     if locations else "")
    header = ["step"] + threads + [""]
    widths = [max(len(row[c]) for row in rows + [header]) for c in range(len(header))]
    lines = [_line(header, widths, "")]
    lines += [_line(row, widths, tail) for row, tail in zip(rows, tails)]
    return "\n".join(lines)


def display_location(location: str | None) -> str | None:
    """A step's ``file:line`` as a person finds it: in a notebook, the cell's name."""
    return cell_location(location)


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

def render_group(group: FindingGroup, *, traces: bool = True, hint=replay_hint) -> list[str]:
    """Lines for one group of findings: a single finding as it renders itself; several, one
    headline listing each outcome with its count, then the trace of the first."""
    first = group[0]
    if len(group) == 1:
        if not traces:
            return [f"{first.severity.upper()} [{first.kind}] {first.message}"]
        return first.render().splitlines() + ["to replay: " + hint(first.trace)]
    lines = [f"{first.severity.upper()} [{first.kind}] {group.summary}:"]
    for outcome, runs in group.outcomes:
        lines.append(f"  {outcome}  (in {runs} execution{'' if runs == 1 else 's'})")
    if group.serial is not None:
        lines.append("  serial outcomes: " + group.serial)
    if traces:
        lines.append("  the first, step by step:")
        lines += first.trace.render().splitlines()
        lines.append("to replay: " + hint(first.trace))
    return lines


@provides
def render_result(result: ExplorationResult, *, traces: bool = True, hint=replay_hint) -> str:
    """The summary of an exploration: counts, final states, findings with their traces.

    Percentages are of every execution, so deadlocked, failed and cut-short runs
    have rows of their own. ``hint`` makes the line that replays a trace (the CLI
    gives the command; the default gives the Python call)."""
    lines = [f"scenario {result.scenario.name!r}: {result.summary()}"]
    if not result.complete:
        lines.append(f"  INCOMPLETE: {result.incomplete_reason}; nothing beyond this was checked")
        if result.stop_reason in ("time_limit", "max_executions", "interrupted") \
                and result.strategy in ("dpor", "exhaustive") and not result.contenders:
            lines.append("  try strategy='stateful' (--strategy stateful): it merges runs that reach the same "
                         "state (locals, values, locks), which dpor and exhaustive explore apart, and "
                         "treats threads built alike as one; or strategy='auto', which runs dpor and "
                         "stateful in turns and answers with the first to finish")
    ended = [(f"({word})", count) for word, count in (("deadlocked", result.deadlocked),
                                                      ("failed", result.failed),
                                                      ("cut short at max_steps", result.truncated)) if count]
    if result.final_states or ended:
        lines.append(f"  final states{_COUNTED.get(result.strategy, '')}:")
        rows = [(str(state) or "(no variables)", count)
                for state, count in sorted(result.final_states.items(), key=lambda item: -item[1])]
        total = sum(count for _, count in rows + ended)
        for text, count in rows + ended:
            lines.append(f"    {text:<30} {count:>8}  ({count / total:.0%})")
    if result.findings:
        lines.append(f"  findings ({len(result.findings)}):")
        for group in group_findings(result.findings):
            lines += ["    " + line for line in render_group(group, traces=traces, hint=hint)]
    else:
        lines.append("  no findings")
    return "\n".join(lines)
