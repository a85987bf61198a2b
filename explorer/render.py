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

from ._text import cell_location

if TYPE_CHECKING:
    from .findings import Finding, Trace
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

#: Kinds whose findings are one per outcome; a result shows them grouped by subject.
_PER_OUTCOME = {"invariant": " fails on ", "nonserializable": " is not serializable"}


def group_findings(findings: list[Finding]) -> list[list[Finding]]:
    """The findings with those of one kind about one subject together (an invariant broken
    by several outcomes, the outcomes no serial order gives), in the order of their first."""
    groups: dict[tuple, list[Finding]] = {}
    for number, finding in enumerate(findings):
        cut = _PER_OUTCOME.get(finding.kind)
        if cut is not None and cut in finding.message:
            key = (finding.kind, finding.severity, _subject(finding)[0])
        else:
            key = (number,)
        groups.setdefault(key, []).append(finding)
    return list(groups.values())


def _subject(finding: Finding) -> tuple[str, str]:
    """``(what is broken, by which outcome)`` of a per-outcome finding."""
    cut = _PER_OUTCOME[finding.kind]
    head, _, tail = finding.message.partition(cut)
    if finding.kind == "invariant":
        return head, tail
    for prefix in ("final state ", "outcome (return values) "):
        if head.startswith(prefix):
            return "serializability", head[len(prefix):]
    return "serializability", head


def render_group(group: list[Finding], *, traces: bool = True, hint=replay_hint) -> list[str]:
    """Lines for one group of findings: a single finding as it renders itself; several, one
    headline listing each outcome with its count, then the trace of the first."""
    first = group[0]
    if len(group) == 1:
        if not traces:
            return [f"{first.severity.upper()} [{first.kind}] {first.message}"]
        return first.render().splitlines() + ["to replay: " + hint(first.trace)]
    what, _ = _subject(first)
    verb = "is broken by" if first.kind == "invariant" else "fails for"
    rows: dict[str, int] = {}  # outcomes that differ only where the subject does not look are one row
    for finding in group:
        subject = _subject(finding)[1].strip()
        rows[subject] = rows.get(subject, 0) + finding.occurrences
    lines = [f"{first.severity.upper()} [{first.kind}] {what} {verb} {len(rows)} outcomes:"]
    for subject, runs in rows.items():
        lines.append(f"  {subject}  (in {runs} execution{'' if runs == 1 else 's'})")
    if first.kind == "nonserializable" and "Serial outcomes: " in first.message:
        lines.append("  serial outcomes: " + first.message.split("Serial outcomes: ", 1)[1])
    if traces:
        lines.append("  the first, step by step:")
        lines += first.trace.render().splitlines()
        lines.append("to replay: " + hint(first.trace))
    return lines


def render_result(result: ExplorationResult, *, traces: bool = True, hint=replay_hint) -> str:
    """The summary of an exploration: counts, final states, findings with their traces.

    Percentages are of every execution, so deadlocked, failed and cut-short runs
    have rows of their own. ``hint`` makes the line that replays a trace (the CLI
    gives the command; the default gives the Python call)."""
    lines = [f"scenario {result.scenario.name!r}: {result.summary()}"]
    if not result.complete:
        lines.append(f"  INCOMPLETE: {result.incomplete_reason}; nothing beyond this was checked")
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
