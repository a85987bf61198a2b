"""Errors for misusing explorer. Findings about the scenario's code are results, not errors.

Each error subclasses :class:`ExplorerError` and the builtin a caller would catch
(``ValueError``, ``TypeError``, ``RuntimeError``), and its message says what is
wrong, why, and the likely fix.
"""

from __future__ import annotations

__all__ = [
    "ExplorerError",
    "GraphTooLarge",
    "InvalidArgument",
    "NondeterminismError",
    "ScenarioError",
    "ScenarioTypeError",
    "ScheduleError",
]


class ExplorerError(Exception):
    """Base of every error explorer raises on purpose."""


class ScenarioError(ExplorerError, ValueError):
    """A ``Scenario(...)`` definition is malformed."""


class ScenarioTypeError(ScenarioError, TypeError):
    """A ``Scenario(...)`` argument has the wrong type."""


class InvalidArgument(ExplorerError, ValueError):
    """An argument to ``explore`` or ``replay`` is out of range or unknown."""


class ScheduleError(ExplorerError, ValueError):
    """A schedule does not fit its scenario: unknown thread, thread not enabled, wrong length."""


class NondeterminismError(ExplorerError, RuntimeError):
    """The same schedule produced different steps on two runs of a scenario."""


class GraphTooLarge(ExplorerError, ValueError):
    """A graph is too large to build or draw within the limit asked for."""
