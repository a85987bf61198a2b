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

from functools import partial
from typing import TYPE_CHECKING

from ._conveniences import provides
from ._text import cell_location
from .findings import FindingGroup, group_findings
from .settings import DEFAULT_MAX_STEPS

if TYPE_CHECKING:
    from .findings import Trace
    from .results import ExplorationResult

_GAP = "  "


#: A run of this many rows or more that repeat one thread's step (its words, value and
#: line) shows as one row: a loop that waits by polling repeats its read thousands of times.
FOLD_AT = 4


@provides
def render_trace(trace: Trace, *, locations: bool = True, fold: bool = True) -> str:
    """One column per thread, one row per step, with the step's source line after it.
    Unless ``fold`` is False, :data:`FOLD_AT` or more consecutive rows of one thread
    taking the same step with the same value at the same line (a polling loop) show as
    one row numbered with the range, ``read flag -> 0 (9,996 times)``; a marked step is
    never folded. The trace itself keeps every step: ``trace.events``, JSON, replay."""
    if not trace.events and not trace.blocked:
        return "  (no step ran: the execution ended before its first step)"
    threads = list(trace.threads)
    column = {name: c for c, name in enumerate(threads)}
    rows: list[list[str]] = []
    tails: list[str] = []
    for event, said, count in step_rows(trace, fold):
        cells = [""] * len(threads)
        mark = trace.marks.get(event.index)
        if count > 1:
            cells[column[event.thread]] = f"{said} ({count:,} times)"
            rows.append([f"{event.index + 1}-{event.index + count}"] + cells + [""])
        else:
            cells[column[event.thread]] = said
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


def step_rows(trace: Trace, fold: bool = True) -> list[tuple]:
    """A trace's rows: ``(event, its words, how many steps the row stands for)``, one per
    step, except that :data:`FOLD_AT` or more consecutive unmarked steps of one thread
    that read the same (words, value, line) are one row, standing for all of them."""
    events, marks = trace.events, trace.marks
    rows = []
    n = 0
    while n < len(events):
        event = events[n]
        said = event.describe()
        end = n + 1
        if fold and event.index not in marks:
            while (end < len(events) and events[end].thread == event.thread
                   and events[end].location == event.location and events[end].index not in marks
                   and events[end].describe() == said):
                end += 1
            if end - n < FOLD_AT:
                end = n + 1
        rows.append((event, said, end - n))
        n = end
    return rows


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


def replay_hint(trace: Trace, max_steps: int | None = None, fair: bool = False) -> str:
    """The line that replays a trace; a thread that runs :data:`FOLD_AT` or more steps in
    a row is written ``['A'] * 9996``, so a polling loop's schedule stays one short line.
    With ``max_steps`` (the run's, where it is not the default), the call passes it on, so
    that a trace cut short there is cut short again; with ``fair``, ``fair=True``, so that
    its steps see the threads a fair search saw."""
    parts, loose = [], []
    for name, count in runs(trace.schedule):
        if count >= FOLD_AT:
            if loose:
                parts.append(repr(loose))
                loose = []
            parts.append(f"[{name!r}] * {count}")
        else:
            loose += [name] * count
    if loose or not parts:
        parts.append(repr(loose))
    steps = ("" if max_steps is None else f", max_steps={max_steps}") + (", fair=True" if fair else "")
    return f"replay(scenario, {' + '.join(parts)}{steps})"


def replay_for(result: ExplorationResult):
    """What makes the line that replays one of ``result``'s traces: :func:`replay_hint`,
    passing on the search's ``max_steps`` (where it is not the default) and ``fair=True``
    (a fair search's), without which the line would replay another run."""
    if result.max_steps == DEFAULT_MAX_STEPS and not result.fair:
        return replay_hint
    return partial(replay_hint, max_steps=None if result.max_steps == DEFAULT_MAX_STEPS else result.max_steps,
                   fair=result.fair)


def runs(schedule) -> list[tuple[str, int]]:
    """A schedule as (thread, how many steps in a row) pairs."""
    out: list[list] = []
    for name in schedule:
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return [(name, count) for name, count in out]


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
    if hint is replay_hint:
        hint = replay_for(result)
    lines = [f"scenario {result.scenario.name!r}: {result.summary()}"]
    if not result.complete:
        lines.append(f"  INCOMPLETE: {result.incomplete_reason}; nothing beyond this was checked")
        cut = result.stop_reason in ("time_limit", "max_executions", "interrupted")
        if result.stopped_in is not None and result.stop_reason == "time_limit":
            # a step that did not yield in time: no strategy makes its code faster
            lines.append("  a step's code that never yields (a loop with no step in it, a sleep, a real "
                         "lock) is a step-timeout finding, with its line, once step_timeout is shorter "
                         "than time_limit (--step-timeout SECONDS)")
        elif result.stop_reason == "time_limit" and not result.executions:
            # no strategy helps a search that never finished a run: more time does
            lines.append("  the time limit came before the first execution ended: give the search more time "
                         "(time_limit, --time-limit SECONDS)")
        elif cut and result.truncated:  # no strategy shortens a run; a smaller budget of steps does
            lines.append(f"  {result.truncated} runs went on to max_steps={result.max_steps:,} (a loop that "
                         f"polls, or one without end: see the max-steps finding); such runs cost as much "
                         f"in every strategy, and a smaller max_steps (--max-steps) shortens them")
        elif cut and result.strategy in ("dpor", "exhaustive") and not result.contenders:
            lines.append("  try strategy='stateful' (--strategy stateful): it merges runs that reach the same "
                         "state (locals, values, locks), which dpor and exhaustive explore apart, and "
                         "treats threads built alike as one; or strategy='auto', which runs dpor and "
                         "stateful in turns and answers with the first to finish")
        elif cut and result.strategy == "stateful" and not result.contenders:
            lines.append("  try strategy='dpor' (--strategy dpor): it stores no states and runs one order of "
                         "steps that commute, where stateful stores every state those orders pass through "
                         "(many threads that touch different things); or strategy='auto', which runs dpor "
                         "and stateful in turns and answers with the first to finish")
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
