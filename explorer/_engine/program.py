"""A scenario compiled once into the flat tables the hot loop reads."""

from __future__ import annotations

from ..scenario import Scenario
from ..steps import Acquire, Read, Release, Write


class Program:
    """Everything about a scenario that does not change between executions."""

    __slots__ = (
        "factories",
        "initial",
        "lock_names",
        "reentrant",
        "scenario",
        "targets",
        "thread_names",
        "var_names",
    )

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.thread_names = tuple(scenario.threads)
        self.factories = tuple(scenario.threads.values())
        self.var_names = tuple(scenario.variables)
        self.initial = dict(scenario.variables)
        self.lock_names = tuple(scenario.locks)
        self.reentrant = {lock: kind == "rlock" for lock, kind in scenario.locks.items()}
        variables = frozenset(self.var_names)
        locks = frozenset(self.lock_names)
        # step class -> the names a step of that class may target
        self.targets = {Read: variables, Write: variables, Acquire: locks, Release: locks}
