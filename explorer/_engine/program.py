"""A scenario compiled once into the flat tables the hot loop reads."""

from __future__ import annotations

from ..objects import IMPLICIT
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
        "footprints",
        "initial",
        "lock_names",
        "reentrant",
        "scenario",
        "serializable",
        "targets",
        "thread_index",
        "thread_names",
        "var_names",
    )

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.thread_names = tuple(scenario.threads)
        self.thread_index = {name: i for i, name in enumerate(self.thread_names)}
        self.factories = tuple(scenario.threads.values())
        self.var_names = tuple(scenario.variables)
        self.initial = dict(scenario.variables)
        self.lock_names = tuple(scenario.locks)
        self.reentrant = {lock: kind == "rlock" for lock, kind in scenario.locks.items()}
        self.declarations = dict(scenario.declarations)
        self.footprints: dict = {}  # step -> its footprint: dpor asks for every step it analyses
        # Serial orders are a baseline only when no thread can wait for another's step.
        self.serializable = all(d.serializable for d in self.declarations.values())
        variables = frozenset(self.var_names)
        locks = frozenset(self.lock_names)
        # step class -> the names a step of that class may target
        self.targets = {Read: variables, Write: variables, Acquire: locks, Release: locks}

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
