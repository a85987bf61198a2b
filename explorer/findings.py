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

from ._conveniences import provided
from ._text import cells_named, shown
from .objects.event import Event as _EventDeclaration
from .objects.pool import WAKE_UP_SHOWN
from .steps import Acquire, Op, Read, Release, Step, Write

__all__ = ["FAILURE_KINDS", "FINDING_KINDS", "SEVERITIES", "Event", "Finding", "FindingGroup", "RawFinding", "Trace",
           "group_findings"]

SEVERITIES = ("error", "warning")

#: Every kind of finding, as ``Finding.kind`` and ``Expect(findings=...)`` spell it.
FINDING_KINDS = ("lost-update", "nonserializable", "invariant", "deadlock", "lock-order-cycle", "race",
                 "error", "max-steps", "step-timeout", "nondeterminism", "lock-held-at-exit",
                 "foreign-release", "close-error")
#: The kinds that say an execution did not run as written (a thread raised or misused a
#: step, ran past ``max_steps`` or its step timeout, or the scenario is not deterministic):
#: an ``Expect`` rules them out unless its ``findings`` names them.
FAILURE_KINDS = ("error", "max-steps", "step-timeout", "nondeterminism")

_STEP_TYPES = {"read": Read, "write": Write, "acquire": Acquire, "release": Release}
#: How steps on objects read in a trace, when not by their own name.
_WORDS = {"wake": "woken in", "pass": "pass barrier", "take": "take a task from", "finish": "finish",
          "drain": "all workers done in", "set_event": "set", "clear_event": "clear", "is_set": "is set",
          "cancel_next": "shutdown takes the next queued task of"}
#: A waiting step in words: the second half of a two-phase step is the call the thread is in.
_WAITING = {"expire": "wait", "wake": "wait", "pass": "wait", "take": "take a task from", "drain": "shutdown",
            "wait_any": "wait for any future as", "collect": "as_completed's order in"}


def waiting_words(kind: str, target: str) -> str:
    """What a thread left waiting is doing, as a trace shows it: ``wait ready``."""
    return f"{_WAITING.get(kind, kind)} {target}"


#: Steps whose event shows the value the thread got back.
_SHOWS_VALUE = frozenset({"acquire", "wake", "wait", "pass", "get", "is_set", "result", "exception", "running", "submit",
                          "take"})


@dataclass(frozen=True, slots=True)
class Event:
    """One executed step: ``index`` (0-based position in the schedule), the thread,
    the step's kind and target, and the value read or written (``None`` for locks).
    ``location`` is the ``file:line`` of the ``yield``, when it was recorded.

    Called with no arguments, ``Event()`` declares a ``threading.Event`` for a
    scenario's ``objects=`` (:class:`explorer.objects.Event`): the one public name
    serves both, since a trace's step always has arguments.

    >>> Event()
    Event()
    """

    def __new__(cls, *args, **kwargs):
        if not args and not kwargs:
            return _EventDeclaration()
        return object.__new__(cls)

    index: int
    thread: str
    kind: str
    target: str
    value: Any = None
    location: str | None = None

    def __reduce__(self):
        return (Event, (self.index, self.thread, self.kind, self.target, self.value, self.location))

    @property
    def step(self) -> Step:
        """The step, as far as the event holds it (a step on an object loses its arguments)."""
        if self.kind == "write":
            return Write(self.target, self.value)
        cls = _STEP_TYPES.get(self.kind)
        return cls(self.target) if cls is not None else Op(self.kind, self.target)

    def describe(self) -> str:
        """The step in words: ``read x -> 0``, ``write x = 1``, ``acquire l``, ``get q -> 3``."""
        kind, target, value = self.kind, self.target, self.value
        if kind == "read":
            return f"read {target} -> {shown(value)}"
        if kind == "write":
            return f"write {target} = {shown(value)}"
        if kind == "update":
            if isinstance(value, tuple) and len(value) == 2:
                return f"update {target}: {shown(value[0])} -> {shown(value[1])}"
            return f"update {target}"
        words = _WORDS.get(kind, kind)
        if kind == "cancel_next" or (kind == "shutdown" and value is not None):  # cancel_futures=True
            return f"{words} {target}: " + ("none left" if value is None else f"cancel {value}")
        if kind == "broken" or kind == "break_next":  # a worker's initializer raised (plain code)
            head = f"initializer raised: {target} is broken" if kind == "broken" else f"broken {target}"
            if value == WAKE_UP_SHOWN:  # a shutdown's
                return f"{head}: take a shutdown's wake-up from the queue, which no worker will see"
            return f"{head}: " + ("no task queued" if value is None else f"fail {value} with BrokenThreadPool")
        if kind in _SHOWS_VALUE and (value is not None or kind == "get" or kind == "result"):
            return f"{words} {target} -> {shown(value)}"
        if kind == "put":
            return f"put {shown(value)} in {target}"
        if kind == "sleep":  # plain code's time.sleep: virtual time, a point where others may run
            return f"sleep {shown(value)} s"
        if kind == "wait_any":  # concurrent.futures.wait() or as_completed() looks (plain code)
            return f"futures ended -> {', '.join(value)}" if value else "futures ended -> none yet"
        if kind == "shuffle":  # the futures as_completed found ended come in any order
            return f"draw the order of the ended futures in {shown(value)}"
        if kind == "add_done_callback":
            return f"add a done-callback to {target}" + (" (done: called now)" if value else "")
        if kind == "callback_raised":
            return f"a done-callback of {target} raised"
        if kind == "deliver":
            return f"draw {value} next in {target}"
        if kind == "collect":
            return f"the order drawn in {target} -> {', '.join(value)}" if value else f"the order drawn in {target}"
        if kind == "expire":  # a timed condition wait stops waiting for a notify
            return f"notified in {target}" if value else f"timeout fires in {target}"
        return f"{words} {target}"
    def __str__(self) -> str:
        return f"{self.thread}: {self.describe()}"


@dataclass(frozen=True, slots=True)
class Trace:
    """A schedule and the events it produced.

    ``schedule`` is the tuple of thread names, one per step, that ``replay``
    accepts; ``blocked`` maps each thread left waiting at the end (in a deadlock)
    to the lock (or object) it waits for, ``waiting`` to the step it waits in, in words
    (``"acquire l"``, ``"wait ready"``), and ``blocked_at`` to where it waits. ``marks`` maps
    event indices to what those steps did for the finding ("lost write").
    """

    schedule: tuple[str, ...]
    events: tuple[Event, ...]
    threads: tuple[str, ...]
    blocked: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    preemptions: int = 0
    blocked_at: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    marks: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    #: each thread left waiting at the end, and the step it waits in, in words ("wait ready")
    waiting: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __len__(self) -> int:
        return len(self.schedule)

    def render(self, *, locations: bool = True, fold: bool = True) -> str:
        """One column per thread, one row per step (a step repeated in a row folded to one,
        unless ``fold`` is False); see :func:`explorer.render.render_trace`."""
        return provided("render_trace")(self, locations=locations, fold=fold)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"<Trace of {len(self.schedule)} steps: {', '.join(self.schedule) or 'none'}>"

    def _repr_html_(self) -> str:
        return provided("trace_html")(self)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something that went wrong in at least one execution, with the best trace showing it.

    ``kind`` is one of ``lost-update``, ``nonserializable``, ``invariant``,
    ``deadlock``, ``lock-order-cycle``, ``race``, ``error``, ``max-steps``, ``step-timeout``,
    ``nondeterminism``, ``lock-held-at-exit``, ``foreign-release`` and ``close-error``;
    ``severity`` is ``error`` or ``warning``. ``trace`` is the explored execution with the fewest preemptions,
    then the fewest steps, among the ``occurrences`` executions that showed it (:func:`chosen_trace`
    says it in words); a race's is one where the threads interleave around it, if one does.
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
        labelled with the lock (or other object) it waits on; a thread that waits for
        something nobody holds (a notify, an item, a barrier's parties) points at a
        resource node (``kind="resource"``, ``waits_for`` in words) instead."""
        from ._graph_types import DiGraph

        graph = DiGraph(kind="wait-for")
        waiting_for = self.details.get("waiting_for", {})
        for thread, lock, holder, finished in self.details.get("waits", ()):
            graph.add_node(thread, finished=False, kind="thread", waits_for=waiting_for.get(thread))
            if holder is not None:
                if holder not in graph:
                    graph.add_node(holder, finished=finished, kind="thread")
                graph.add_edge(thread, holder, lock=lock)
            else:
                graph.add_node(lock, kind="resource", waits_for=waiting_for.get(thread))
                graph.add_edge(thread, lock, lock=lock)
        return graph

    def render(self, *, locations: bool = True) -> str:
        """The message, then the trace as columns."""
        head = f"{self.severity.upper()} [{self.kind}] {self.message}"
        if self.occurrences > 1:
            head += f"\n  (in {self.occurrences} executions; the trace below {chosen_trace(self.kind)})"
        return cells_named(f"{head}\n{self.trace.render(locations=locations)}")

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        message = cells_named(self.message)
        return (f"<Finding {self.severity} {self.kind}: {message[:80]}"
                f"{'...' if len(message) > 80 else ''} ({len(self.trace)} step{'' if len(self.trace) == 1 else 's'})>")

    def _repr_html_(self) -> str:
        return provided("finding_html")(self)


#: Kinds whose findings are one per outcome, and what their messages say between the subject
#: and the outcome: a result shows them grouped by subject.
_PER_OUTCOME = {"invariant": " fails on ", "nonserializable": " is not serializable"}


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """Findings of one kind about one subject, which a result shows as one: an invariant
    that several outcomes break, the outcomes no serial order gives. A finding of any
    other kind is a group of its own. A group is the sequence of its findings.

    ``subject`` is what is broken (``"invariant never_negative"``, ``"serializability"``),
    None for a kind not judged per outcome; ``outcomes`` is each outcome that breaks it,
    in words, with the executions that reached it (outcomes that differ only where the
    subject does not look are one row), in the order of the findings.
    """

    findings: tuple[Finding, ...]
    subject: str | None = None
    outcomes: tuple[tuple[str, int], ...] = ()

    @property
    def kind(self) -> str:
        return self.findings[0].kind

    @property
    def severity(self) -> str:
        return self.findings[0].severity

    @property
    def summary(self) -> str:
        """The group in words: its finding's message, or for several, what is broken by how
        many outcomes (``invariant never_negative is broken by 2 outcomes``)."""
        if len(self.findings) == 1:
            return self.findings[0].message
        verb = "is broken by" if self.kind == "invariant" else "fails for"
        return f"{self.subject} {verb} {len(self.outcomes)} outcomes"

    @property
    def serial(self) -> str | None:
        """For non-serializable outcomes, the outcomes that a serial order gives, in words."""
        message = self.findings[0].message
        if self.kind != "nonserializable" or "Serial outcomes: " not in message:
            return None
        return message.split("Serial outcomes: ", 1)[1]

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):
        return iter(self.findings)

    def __getitem__(self, index):
        return self.findings[index]


def group_findings(findings: list[Finding]) -> list[FindingGroup]:
    """The findings with those of one kind about one subject together (an invariant broken
    by several outcomes, the outcomes no serial order gives), in the order of their first.

    >>> from explorer import explore
    >>> from scenarios.bank_transfer import bank_transfer_unlocked
    >>> groups = group_findings(explore(bank_transfer_unlocked).findings)
    >>> [(group.kind, len(group)) for group in groups][:3]
    [('lost-update', 1), ('lost-update', 1), ('nonserializable', 4)]
    >>> groups[2].summary
    'serializability fails for 4 outcomes'
    """
    groups: dict[tuple, list[Finding]] = {}
    for number, finding in enumerate(findings):
        cut = _PER_OUTCOME.get(finding.kind)
        if cut is not None and cut in finding.message:
            key = (finding.kind, finding.severity, _subject(finding)[0])
        else:
            key = (number,)
        groups.setdefault(key, []).append(finding)
    made = []
    for key, members in groups.items():
        if len(key) == 1:
            made.append(FindingGroup(tuple(members)))
            continue
        rows: dict[str, int] = {}
        for finding in members:
            outcome = _subject(finding)[1].strip()
            rows[outcome] = rows.get(outcome, 0) + finding.occurrences
        made.append(FindingGroup(tuple(members), key[2], tuple(rows.items())))
    return made


def _subject(finding: Finding) -> tuple[str, str]:
    """``(what is broken, by which outcome)`` of a per-outcome finding, from its message."""
    cut = _PER_OUTCOME[finding.kind]
    head, _, tail = finding.message.partition(cut)
    if finding.kind == "invariant":
        return head, tail
    for prefix in ("final state ", "outcome (return values) "):
        if head.startswith(prefix):
            return "serializability", head[len(prefix):]
    return "serializability", head


def chosen_trace(kind: str) -> str:
    """Why a finding of ``kind`` shows the trace it shows, of the executions that show it.

    A race shows one where the threads interleave around the racing steps, if some
    execution does (:func:`explorer.detectors.races.witness_ranks`): in A, A, B, B nothing
    goes wrong, in A, B, B, A the other order of the two steps reads or writes something else.
    """
    if kind == "race":
        return "interleaves the threads around it if one does, then has the fewest preemptions"
    return "has the fewest preemptions"


class RawFinding:
    """A finding as the engine records it: cheap to make, turned public later."""

    __slots__ = ("details", "key", "kind", "message", "severity", "thread")

    def __init__(self, kind: str, severity: str, thread: int | None, key: tuple, message: str,
                 details: dict | None = None) -> None:
        self.kind = kind
        self.severity = severity
        self.thread = thread
        self.key = key
        self.message = message
        self.details = details or {}
