"""Events, traces and findings: what an execution did, and what went wrong in it.

>>> from explorer import Scenario, explore, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> scenario = Scenario("counter", variables={"x": 0}, threads={"A": increment})
>>> explore(scenario).findings
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._text import shown
from .steps import Acquire, Read, Release, Step, Write

__all__ = ["FINDING_KINDS", "SEVERITIES", "Event", "Finding", "Trace"]

SEVERITIES = ("error", "warning")

#: Every kind of finding, as ``Finding.kind`` and ``Expect(findings=...)`` spell it.
FINDING_KINDS = ("lost-update", "nonserializable", "invariant", "deadlock", "lock-order-cycle", "race",
                 "error", "max-steps", "step-timeout", "nondeterminism", "lock-held-at-exit",
                 "foreign-release", "close-error")

_STEP_TYPES = {"read": Read, "write": Write, "acquire": Acquire, "release": Release}


@dataclass(frozen=True, slots=True)
class Event:
    """One executed step: ``index`` (0-based position in the schedule), the thread,
    the step's kind and target, and the value read or written (``None`` for locks).
    ``location`` is the ``file:line`` of the ``yield``, when it was recorded."""

    index: int
    thread: str
    kind: str
    target: str
    value: Any = None
    location: str | None = None

    @property
    def step(self) -> Step:
        if self.kind == "write":
            return Write(self.target, self.value)
        return _STEP_TYPES[self.kind](self.target)

    def describe(self) -> str:
        """The step in words: ``read x -> 0``, ``write x = 1``, ``acquire l``."""
        if self.kind == "read":
            return f"read {self.target} -> {shown(self.value)}"
        if self.kind == "write":
            return f"write {self.target} = {shown(self.value)}"
        return f"{self.kind} {self.target}"

    def __str__(self) -> str:
        return f"{self.thread}: {self.describe()}"


@dataclass(frozen=True, slots=True)
class Trace:
    """A schedule and the events it produced.

    ``schedule`` is the tuple of thread names, one per step, that ``replay``
    accepts; ``blocked`` maps each thread left waiting at the end (in a deadlock)
    to the lock it waits for, and ``blocked_at`` to where it waits. ``marks`` maps
    event indices to what those steps did for the finding ("lost write").
    """

    schedule: tuple[str, ...]
    events: tuple[Event, ...]
    threads: tuple[str, ...]
    blocked: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    preemptions: int = 0
    blocked_at: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    marks: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    def __len__(self) -> int:
        return len(self.schedule)

    def render(self, *, locations: bool = True) -> str:
        """One column per thread, one row per step; see :func:`explorer.render.render_trace`."""
        from .render import render_trace

        return render_trace(self, locations=locations)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"<Trace of {len(self.schedule)} steps: {', '.join(self.schedule) or 'none'}>"

    def _repr_html_(self) -> str:
        from .notebook import trace_html

        return trace_html(self)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something that went wrong in at least one execution, with the best trace showing it.

    ``kind`` is one of ``lost-update``, ``nonserializable``, ``invariant``,
    ``deadlock``, ``lock-order-cycle``, ``race``, ``error``, ``max-steps``, ``step-timeout``,
    ``nondeterminism``, ``lock-held-at-exit``, ``foreign-release`` and ``close-error``;
    ``severity`` is ``error`` or ``warning``. ``trace`` is the explored execution with the fewest preemptions,
    then the fewest steps, among the ``occurrences`` executions that showed it.
    ``details`` holds what the kind knows: for a deadlock ``waits`` (thread, lock,
    holder, holder finished) and ``cycle`` (thread names, first repeated last); for an
    error the ``exception`` and its ``location``.
    """

    kind: str
    severity: str
    message: str
    trace: Trace
    thread: str | None = None
    occurrences: int = 1
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def cycle(self) -> list[str]:
        """For a deadlock, the threads in the wait-for cycle; for a lock-order cycle, its
        locks. The first is repeated at the end."""
        return list(self.details.get("cycle", []))

    @property
    def exception(self) -> BaseException | None:
        return self.details.get("exception")

    def wait_for_graph(self):
        """For a deadlock, a ``networkx.DiGraph``: thread -> thread it waits for, edges
        labelled with the lock."""
        from ._graph_types import DiGraph

        graph = DiGraph(kind="wait-for")
        for thread, lock, holder, finished in self.details.get("waits", ()):
            graph.add_node(thread, finished=False)
            if holder is not None:
                graph.add_node(holder, finished=finished)
                graph.add_edge(thread, holder, lock=lock)
        return graph

    def render(self, *, locations: bool = True) -> str:
        """The message, then the trace as columns."""
        head = f"{self.severity.upper()} [{self.kind}] {self.message}"
        if self.occurrences > 1:
            head += f"\n  (in {self.occurrences} executions; the trace below has the fewest preemptions)"
        return f"{head}\n{self.trace.render(locations=locations)}"

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return (f"<Finding {self.severity} {self.kind}: {self.message[:80]}"
                f"{'...' if len(self.message) > 80 else ''} ({len(self.trace)} steps)>")

    def _repr_html_(self) -> str:
        from .notebook import finding_html

        return finding_html(self)
