"""What exploring and replaying return."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ._conveniences import provided
from ._text import cells_named
from .findings import Finding, Trace
from .outcomes import Outcome, State
from .scenario import Scenario
from .settings import DEFAULT_MAX_STEPS

__all__ = ["STOP_REASONS", "Execution", "ExplorationResult"]

#: Why an exploration stopped before covering its whole space.
STOP_REASONS = ("max_executions", "time_limit", "interrupted", "nondeterminism", "step_timeout")


@dataclass(frozen=True, slots=True, eq=False)
class Execution:
    """One execution, as :func:`explorer.replay` returns it.

    ``status`` is ``completed``, ``deadlocked``, ``failed`` (a thread raised or
    misused a step) or ``truncated`` (a thread hit ``max_steps``). ``final_state``
    and ``outcome`` are ``None`` unless it completed.
    """

    scenario: Scenario
    status: str
    trace: Trace
    final_state: State | None
    outcome: Outcome | None
    findings: list[Finding]

    @property
    def schedule(self) -> tuple[str, ...]:
        return self.trace.schedule

    @property
    def events(self):
        return self.trace.events

    def render(self) -> str:
        lines = [f"execution of {self.scenario.name!r}: {self.status}, {len(self.trace)} steps"]
        lines.append(self.trace.render())
        if self.outcome is not None:
            lines.append(f"  outcome: {self.outcome}")
        lines += [f"  {f.severity.upper()} [{f.kind}] {f.message}" for f in self.findings]
        return cells_named("\n".join(lines))

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return (f"<Execution of {self.scenario.name!r}: {self.status}, {len(self.trace)} steps"
                + (f", {self.outcome}" if self.outcome is not None else "") + f", {_counts(self.findings)}>")

    def _repr_html_(self) -> str:
        return provided("execution_html")(self)


@dataclass(frozen=True, slots=True, eq=False)
class ExplorationResult:
    """The result of :func:`explorer.explore`.

    ``executions`` counts maximal schedules explored: ``completed`` +
    ``deadlocked`` + ``failed`` + ``truncated``. ``complete`` is True only when the
    strategy covered its whole space within every budget and no execution was cut
    at ``max_steps``; otherwise ``incomplete_reason`` says why. ``final_states`` and
    ``outcomes`` count completed executions only. ``findings`` lists each distinct
    finding once, errors first.
    """

    scenario: Scenario
    strategy: str
    executions: int
    completed: int
    deadlocked: int
    failed: int
    truncated: int
    steps: int
    elapsed: float
    stop_reason: str | None
    final_states: Counter
    outcomes: Counter
    findings: list[Finding] = field(default_factory=list)
    #: Lock-order edges seen: (held, acquired, thread, every lock held, location of the acquire).
    lock_order: tuple = ()
    #: Why the strategy itself does not cover every schedule (a sample, a bound), or None.
    strategy_reason: str | None = None
    #: Executions a reducing strategy abandoned because they could only repeat explored ones.
    pruned: int = 0
    #: Stateful search: the distinct states stored (per symmetry class when ``symmetric``).
    states: int | None = None
    #: Stateful search: what the visited set took per state stored, in bytes.
    bytes_per_state: float | None = None
    #: Stateful search: the chance that two stored states shared a 64-bit fingerprint, so
    #: that one was not explored (0.0 with ``exact_states=True``).
    collision_probability: float | None = None
    #: Stateful search: steps run again to reach the branch each execution starts from,
    #: per state stored (generators cannot be copied; this is what that costs).
    replays_per_state: float | None = None
    #: Stateful search with symmetry: the classes of interchangeable threads, by name (twins;
    #: or seats, threads that trade places with the locks their arguments name).
    symmetric: tuple = ()
    #: Worker processes the exploration ran on (1: serially; see ``explore(workers=...)``).
    workers: int = 1
    #: Parallel exploration: the seconds each work unit took, in the order they came back.
    unit_seconds: tuple = ()
    #: Parallel exploration: the coordinator's seconds on what the units sent back (merging).
    coordinator_seconds: float = 0.0
    #: Parallel exploration: the largest peak resident memory of a worker process, in MiB,
    #: less the shared memory it maps (stateful search's table of visited states, stored
    #: once for every worker: 64 MiB in ``/dev/shm``).
    worker_peak_mib: float = 0.0
    #: ``strategy="auto"``: ``(strategy, executions, seconds)`` of each strategy that took
    #: turns, the one that finished first (``strategy``, whose result this is) first; () otherwise.
    contenders: tuple = ()
    #: The ``max_steps`` the exploration ran with (its state graph uses it too).
    max_steps: int = DEFAULT_MAX_STEPS
    #: Where the time limit or Ctrl-C stopped the search when it landed in a thread's own
    #: code, between two of its steps (``"thread A's code after step 1, at file.py:6"``): a
    #: step that did not yield in time. None when the search stopped between steps.
    stopped_in: str | None = None
    #: Whether the search kept to fair schedules (``explore(fair=True)``): a thread that
    #: slept or timed out let every thread that could run meanwhile take a step first.
    fair: bool = False
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def state_graph(self):
        """The scenario's reachable states as a ``networkx.DiGraph``; see
        :func:`explorer.graphs.state_graph`. Built on first use (it explores the states
        again, independent of the strategy), then kept."""
        if "state_graph" not in self._cache:
            self._cache["state_graph"] = provided("state_graph")(self.scenario, max_steps=self.max_steps)
        return self._cache["state_graph"]

    @property
    def lock_order_graph(self):
        """Locks taken while holding others, as a ``networkx.MultiDiGraph`` with the
        potential-deadlock cycles marked; see :func:`explorer.graphs.lock_order_graph`."""
        return provided("lock_order_graph")(self)

    @property
    def races(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "race"]

    @property
    def complete(self) -> bool:
        return self.stop_reason is None and self.truncated == 0 and self.strategy_reason is None

    @property
    def incomplete_reason(self) -> str | None:
        reasons = {
            "max_executions": "stopped at max_executions",
            "time_limit": "stopped at time_limit",
            "interrupted": "interrupted (Ctrl-C)",
            "nondeterminism": "stopped because the scenario is nondeterministic",
            "step_timeout": "stopped because a step ran past step_timeout",
        }
        parts = []
        if self.strategy_reason is not None:
            parts.append(self.strategy_reason)
        if self.stop_reason is not None:
            parts.append(reasons[self.stop_reason])
            if self.stopped_in is not None:
                parts[-1] += f" in {self.stopped_in}"
            if self.stop_reason == "max_executions" and self.strategy == "stateful" and self.pruned:
                parts[-1] += " (stateful search counts its runs cut at a state already visited, pruned, too)"
        if self.truncated:
            parts.append(f"{self.truncated} executions cut short at max_steps")
        return "; ".join(parts) or None

    @property
    def deadlocks(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "deadlock"]

    @property
    def errors(self) -> list[Finding]:
        """Every finding of severity ``error`` (a lost update, a deadlock, a thread that
        raised...), so ``assert not result.errors`` fails on any of them. The findings
        of the one kind ``error`` (a thread raised or misused a step) are
        ``[f for f in result.errors if f.kind == "error"]``."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Every finding of severity ``warning`` (a race, a lock held at exit...)."""
        return [f for f in self.findings if f.severity == "warning"]

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as JSON in the documented, versioned format (``docs/json-format.md``)."""
        return provided("result_to_json")(self, indent=indent)

    def summary(self) -> str:
        """One line: executions by status, steps, distinct outcomes, time."""
        noun = "execution" if self.executions == 1 else "executions"
        parts = [f"{self.executions} {noun} ({self.completed} completed"]
        for count, word in ((self.deadlocked, "deadlocked"), (self.failed, "failed"),
                            (self.truncated, "truncated")):
            if count:
                parts.append(f"{count} {word}")
        text = ", ".join(parts) + ")"
        if self.pruned:
            text += f", {self.pruned} pruned"
        if self.states is not None:
            text += f", {self.states} states"
            if self.symmetric:
                text += " (per symmetry class)"
            text += f" at {self.bytes_per_state:.0f} B each"
            if self.collision_probability:
                text += f", P(fingerprint collision) {self.collision_probability:.1e}"
        text += f", {self.steps} steps, {len(self.final_states)} distinct final states"
        text += f", {self.elapsed:.2f}s, {self.strategy}"
        if self.fair:
            text += " over fair schedules"
        if self.contenders:  # strategy="auto": the first to finish, and what the others got
            others = "; ".join(f"{name} {executions} executions in {seconds:.2f}s" if seconds else
                               f"{name} needed no turn" for name, executions, seconds in self.contenders[1:])
            first = "finished first" if self.complete else "none finished, this one's result"
            text += f" (auto: {first}{'; ' + others if others else ''})"
        return text + ("" if self.complete else ", INCOMPLETE")

    def render(self, *, traces: bool = True) -> str:
        """Counts, final states and findings with their traces; see :func:`explorer.render.render_result`
        (in a notebook, a cell's hidden file is named as the cell, ``In[3]:5``)."""
        return cells_named(provided("render_result")(self, traces=traces))

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"<ExplorationResult {self.scenario.name!r}: {self.summary()}; {_counts(self.findings)}>"

    def _repr_html_(self) -> str:
        return provided("result_html")(self)


def _counts(findings: list[Finding]) -> str:
    """``no findings``, or ``3 findings (2 errors, 1 warning)``."""
    if not findings:
        return "no findings"
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    return (f"{len(findings)} finding{'' if len(findings) == 1 else 's'} ({errors} error"
            f"{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'})")
