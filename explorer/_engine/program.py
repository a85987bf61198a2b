"""A scenario compiled once into the flat tables the hot loop reads."""

from __future__ import annotations

from contextlib import nullcontext

from ..objects import IMPLICIT, LockDeclaration
from ..objects.base import HIDDEN
from ..objects.condition import Condition
from ..objects.dependence import touches_everything
from ..scenario import Scenario
from ..steps import Acquire, Read, Release, Write


class Program:
    """Everything about a scenario that does not change between executions.

    Threads are numbered in the order they are first seen: the scenario's threads
    first, then each thread a ``spawn`` or a pool starts, when it first starts in any
    execution. A name keeps its number for the whole search, so strategies, which only
    see numbers, see the same thread under the same number in every execution.
    """

    __slots__ = (
        "declarations",
        "factories",
        "fair",
        "footprints",
        "held",
        "initial",
        "lock_names",
        "plain",
        "reentrant",
        "scenario",
        "serializable",
        "spurious",
        "targets",
        "thread_index",
        "thread_names",
        "var_names",
    )

    def __init__(self, scenario: Scenario, fair: bool = False) -> None:
        self.scenario = scenario
        self.fair = fair  # every run keeps to fair schedules (fairness.py)
        # a condition's wait may return without a notify (once per thread, condition and run)
        self.spurious = bool(getattr(scenario, "spurious_wakeups", False))
        self.thread_names = tuple(scenario.threads)
        self.thread_index = {name: i for i, name in enumerate(self.thread_names)}
        self.factories = tuple(scenario.threads.values())
        self.var_names = tuple(scenario.variables)
        self.initial = dict(scenario.variables)
        self.lock_names = tuple(scenario.locks)
        self.reentrant = {lock: kind == "rlock" for lock, kind in scenario.locks.items()}
        self.declarations = dict(scenario.declarations)
        self.held: dict | None = None  # what its thread functions hold before a run (tally._held)
        self.footprints: dict = {}  # step -> its footprint: dpor asks for every step it analyses
        # Serial orders are a baseline only when no thread can wait for another's step.
        self.serializable = all(d.serializable for d in self.declarations.values())
        variables = set(self.var_names)  # grows as plain code's runs name new ones
        locks = frozenset(self.lock_names)
        # step class -> the names a step of that class may target
        self.targets = {Read: variables, Write: variables, Acquire: locks, Release: locks}
        # plain threading code (explorer.program): the runtime that runs its threads as
        # greenlets and names the variables and objects it makes as it runs
        plain = getattr(scenario, "plain", None)
        self.plain = None if plain is None else plain.runtime(self)

    def session(self):
        """A context for a whole search: plain code's patches stay in place between runs."""
        return nullcontext() if self.plain is None else self.plain.session()

    def register_variable(self, name: str) -> None:
        """A variable first seen during a run (a tracked object's attribute): known from
        now on to every run of the search, absent (HIDDEN) until a run writes it."""
        if name not in self.initial:
            self.var_names = self.var_names + (name,)
            self.initial[name] = HIDDEN
            self.targets[Read].add(name)  # the same set as targets[Write]

    def register_object(self, name: str, declaration) -> None:
        """An object a run makes as it runs (plain code's ``threading.Lock()``): its
        declaration answers for its steps in every run of the search."""
        known = self.declarations.get(name)
        if known is None:
            self.declarations[name] = declaration
            if isinstance(declaration, LockDeclaration):
                self.lock_names = self.lock_names + (name,)
                self.reentrant[name] = declaration.reentrant
            self.serializable = self.serializable and declaration.serializable
            self.footprints.clear()

    def register_thread(self, name: str) -> int:
        """The number of thread ``name``, given it when first seen."""
        index = self.thread_index.get(name)
        if index is None:
            index = self.thread_index[name] = len(self.thread_names)
            self.thread_names = self.thread_names + (name,)
        return index

    def _declaration(self, step: tuple):
        declaration = self.declarations.get(step[1])
        return IMPLICIT.get(step[0]) if declaration is None else declaration

    def lock_role(self, step: tuple) -> tuple | None:
        """A step's part in a lock's life (objects/base.py), or None."""
        declaration = self._declaration(step)
        return None if declaration is None else declaration.lock_role(step[1], step)

    def may_block(self, step: tuple) -> bool:
        """Whether a step can wait for another thread's (a read or write never does)."""
        declaration = self._declaration(step)
        return declaration is not None and declaration.may_block(step[1], step)

    def may_yield(self, step: tuple) -> bool:
        """Whether a step may let time pass for its thread (a sleep, a wait with a timeout)."""
        declaration = self._declaration(step)
        return declaration is not None and declaration.may_yield(step[1], step)

    def touches_everything(self, step: tuple) -> bool:
        """Whether a step is dependent with every step: ``objects.dependence``'s; under
        fair schedules every step that may yield, since it decides whom its thread owes;
        with spurious wakeups a condition's wake-up, which may end a wait no notify can
        reach any more: a reduced search must reach the state where every other thread
        has stopped before it, where the run's deadlock shows (``Execution._hangs``)."""
        return touches_everything(step) or (self.fair and self.may_yield(step)) or (
            self.spurious and self.wakes_spuriously(step))

    def wakes_spuriously(self, step: tuple) -> bool:
        """Whether ``step`` is a condition's wake-up that may come without a notify."""
        return (step[0] == "wake" and len(step) > 3 and step[3] is None
                and self._declaration(step).__class__ is Condition)

    def footprint(self, step: tuple) -> tuple:
        """The shared objects a step touches, by name (DPOR's dependence)."""
        try:
            return self.footprints[step]
        except KeyError:
            pass
        except TypeError:  # a step holding an unhashable item (a list put in a queue)
            return self._footprint(step)
        found = self.footprints[step] = self._footprint(step)
        return found

    def _footprint(self, step: tuple) -> tuple:
        declaration = self._declaration(step)
        return (step[1],) if declaration is None else declaration.footprint(step[1], step)
