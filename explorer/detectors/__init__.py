"""Detectors: pure functions from what executions did to findings.

They never hook into the scheduler. ``PER_EXECUTION`` detectors read one finished
execution's events, ``(thread, step, value read, enabled)`` tuples; the others read
the outcomes of a whole search. Each returns :class:`RawFinding` records whose
``details["marks"]`` map event positions to what those steps did, for the trace.
"""

from .invariants import invariant_violations
from .lost_update import lost_updates
from .serializability import nonserializable_outcomes

#: Detectors run on every execution's events.
PER_EXECUTION = (lost_updates,)

__all__ = ["PER_EXECUTION", "invariant_violations", "lost_updates", "nonserializable_outcomes"]
