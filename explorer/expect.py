"""What a scenario teaches, stated so a test can hold it: ``Scenario(..., expect=Expect(...))``.

>>> from explorer import Expect, Scenario, explore, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> expect = Expect(outcomes=[{"x": 1}, {"x": 2}], findings={"lost-update", "nonserializable", "race"})
>>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment},
...                    expect=expect)
>>> expect.problems(explore(counter))
[]
>>> Expect(findings=set()).problems(explore(counter))[0]
'findings: expected none, found lost-update, nonserializable, race'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ._text import shown
from .errors import ScenarioError, ScenarioTypeError
from .findings import FAILURE_KINDS, FINDING_KINDS, Finding

__all__ = ["Expect"]


class Judged(Protocol):
    """What :meth:`Expect.problems` reads of a result: an :class:`explorer.ExplorationResult`,
    which stands above a scenario (and so above its ``Expect``) in the data flow."""

    @property
    def complete(self) -> bool: ...
    @property
    def incomplete_reason(self) -> str | None: ...
    @property
    def final_states(self) -> Mapping: ...
    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def deadlocks(self) -> Sequence[Finding]: ...
    @property
    def deadlocked(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Expect:
    """The verdicts a scenario should get; each field left ``None`` is not checked, but
    for executions that fail: a thread that raises, runs past a step budget, a scenario
    that is not deterministic, and a deadlock (where ``deadlock`` is ``None``) fail every
    Expect that does not name the kind in ``findings``.

    ``outcomes``: the exact set of final states (mappings such as ``{"x": 2}``).
    ``findings``: the exact set of finding kinds (``set()`` for none at all).
    ``deadlock``: whether some execution deadlocks. ``complete``: the exploration must
    cover the whole space (default True: a partial answer proves nothing).
    """

    outcomes: Iterable[Mapping] | None = None
    findings: Iterable[str] | None = None
    deadlock: bool | None = None
    complete: bool = True

    def __post_init__(self) -> None:
        if self.outcomes is not None:
            outcomes = list(self.outcomes) if not isinstance(self.outcomes, Mapping) else None
            if outcomes is None or not all(isinstance(o, Mapping) for o in outcomes):
                raise ScenarioTypeError(
                    f"Expect(outcomes=...) takes the final states as a list of mappings, such as "
                    f"[{{'x': 1}}, {{'x': 2}}]; got {self.outcomes!r}")
            object.__setattr__(self, "outcomes", tuple(dict(o) for o in outcomes))
        if self.findings is not None:
            if isinstance(self.findings, str) or not all(isinstance(k, str) for k in self.findings):
                raise ScenarioTypeError(
                    f"Expect(findings=...) takes a set of finding kinds, such as {{'deadlock'}} or "
                    f"set() for none; got {self.findings!r}")
            object.__setattr__(self, "findings", frozenset(self.findings))
            unknown = sorted(self.findings - set(FINDING_KINDS))
            if unknown:
                raise ScenarioError(
                    f"Expect(findings=...) names {', '.join(map(repr, unknown))}, which is not a kind of "
                    f"finding; the kinds are {', '.join(FINDING_KINDS)} (spelt with hyphens)")
        if self.deadlock not in (None, True, False):
            raise ScenarioTypeError(f"Expect(deadlock=...) is True, False or None, got {self.deadlock!r}")
        if self.findings is not None and self.deadlock is not None and ("deadlock" in self.findings) != self.deadlock:
            raise ScenarioError(
                f"Expect(findings={set(self.findings) or 'set()'}, deadlock={self.deadlock}) can never hold: a "
                f"deadlock is a 'deadlock' finding, so name it in findings exactly when deadlock=True")
        if not self.complete and self.outcomes is None and self.findings is None and self.deadlock is None:
            raise ScenarioError("Expect(complete=False) with no outcomes, findings or deadlock checks nothing: "
                                "say what the exploration must show, or leave complete=True")

    def problems(self, result: Judged) -> list[str]:
        """What in ``result`` differs from this expectation, one sentence each; empty if nothing."""
        problems = []
        if self.complete and not result.complete:
            problems.append(f"exploration was incomplete ({result.incomplete_reason}), so nothing is proved")
        return problems + self._differences(result, missing=True)

    def surprises(self, result: Judged) -> list[str]:
        """What ``result`` shows that this expectation rules out (a final state or a kind of
        finding it does not name, a deadlock where it says none): what no further
        exploration can undo, so a failure even for a result cut short, whose missing
        parts (:meth:`unshown`) may only lie past the cut."""
        return self._differences(result, missing=False)

    def _differences(self, result: Judged, missing: bool) -> list[str]:
        """:meth:`problems` but for completeness; with ``missing`` False, only what was
        shown and not expected."""
        problems = []
        cut = "" if result.complete else " in the executions explored (cut short)"
        if self.outcomes is not None:
            wanted = {_text(o) for o in self.outcomes}
            got = {_text(state) for state in result.final_states}
            parts = []
            if got - wanted:
                parts.append(f"unexpected {', '.join(sorted(got - wanted))}")
            if wanted - got and missing:
                parts.append(f"never reached {', '.join(sorted(wanted - got))}{cut}")
            if parts:
                problems.append(f"final states: {'; '.join(parts)}")
        if self.findings is not None:
            got_kinds = {f.kind for f in result.findings}
            if got_kinds and not self.findings:
                problems.append(f"findings: expected none, found {', '.join(sorted(got_kinds))}")
            else:
                parts = []
                if got_kinds - self.findings:
                    parts.append(f"unexpected {', '.join(sorted(got_kinds - self.findings))}")
                if self.findings - got_kinds and missing:
                    parts.append(f"missing {', '.join(sorted(self.findings - got_kinds))}{cut}")
                if parts:
                    problems.append(f"findings: {'; '.join(parts)}")
        else:
            unasked = FAILURE_KINDS if self.deadlock is not None else (*FAILURE_KINDS, "deadlock")
            failed = sorted({f.kind for f in result.findings if f.kind in unasked})
            if failed:
                kinds = ", ".join(map(repr, failed))
                problems.append(f"findings: unexpected {', '.join(failed)} (an execution fails; if that is the "
                                f"lesson, name {kinds} in Expect(findings=...)"
                                f"{' or say deadlock=True' if failed == ['deadlock'] else ''})")
        if self.deadlock is not None and bool(result.deadlocks) != self.deadlock:
            if not self.deadlock and result.deadlocked:
                problems.append(f"expected no deadlock, but {result.deadlocked} executions deadlock")
            elif not self.deadlock:  # runs that went on with a spurious wakeup, which CPython never makes
                problems.append(f"expected no deadlock, but {sum(f.occurrences for f in result.deadlocks)} "
                                f"executions pass a deadlock that only a spurious wakeup would end")
            elif missing:
                problems.append(f"expected a deadlock, but no execution deadlocks{cut}")
        return problems

    def verdict(self, result: Judged) -> tuple[str, str]:
        """``(verdict, sentence)`` as ``explorer run`` judges ``result`` by this expectation:
        ``passed``, ``failed`` or ``incomplete``, and what it says (``expect: holds ...``).
        A result cut short whose surprises (:meth:`surprises`) are none is ``incomplete``:
        what it has not shown yet may lie past the cut, and it proves nothing."""
        if self.complete and not result.complete:
            problems = self.surprises(result)
            if not problems:
                unshown = self.unshown(result)
                later = f" (not shown yet: {', '.join(unshown)})" if unshown else ""
                return "incomplete", f"expect: holds so far{later}, but the exploration was INCOMPLETE"
        else:
            problems = self.problems(result)
        if problems:
            return "failed", "expect: FAILS: " + "; ".join(problems)
        shown = ", ".join(sorted({f.kind for f in result.findings})) or "no finding"
        if self.findings is not None:
            return "passed", f"expect: holds ({shown}, as the scenario states)"
        stated = [name for name, value in (("final states", self.outcomes), ("deadlock", self.deadlock))
                  if value is not None] or ["complete"]
        return "passed", f"expect: holds ({' and '.join(stated)} as the scenario states; findings not stated: {shown})"

    def unshown(self, result: Judged) -> list[str]:
        """What this expectation names that ``result``, cut short, has not shown yet (final
        states, kinds of finding, a deadlock): they may lie past the cut. Empty for a
        complete result, which :meth:`problems` judges in full."""
        if result.complete:
            return []
        unshown = []
        if self.outcomes is not None:
            got = {_text(state) for state in result.final_states}
            unshown += [f"final state {text}" for text in sorted({_text(o) for o in self.outcomes} - got)]
        if self.findings is not None:
            unshown += sorted(self.findings - {f.kind for f in result.findings})
        if self.deadlock and not result.deadlocks and "deadlock" not in unshown:
            unshown.append("deadlock")
        return unshown


def _text(state: Mapping) -> str:
    return "{" + ", ".join(f"{k}={shown(v)}" for k, v in sorted(dict(state).items())) + "}"
