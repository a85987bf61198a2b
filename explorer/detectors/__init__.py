"""Detectors: pure functions from what executions did to findings.

They never hook into the scheduler. ``PER_EXECUTION`` detectors read one finished
execution's events, ``(thread, step, value read, enabled)`` tuples; the others read
the outcomes of a whole search. Each returns :class:`RawFinding` records whose
``details["marks"]`` map event positions to what those steps did, for the trace.
"""

from .invariants import invariant_violations
from .lock_order import cycle_finding, lock_order_edges, potential_deadlocks
from .lost_update import lost_updates
from .races import merge_races, race_finding, race_pairs, races, witness_ranks
from .serializability import nonserializable_outcomes

#: Detectors run on every execution's events (on real threads' too). The search runs
#: each through its hot-path form, which words a finding only for a new or better
#: witness: ``lost_update_keys`` and ``race_pairs``; a detector added here needs one
#: there, and a summary in the stateful search's key (``_engine/state_keys.py``).
PER_EXECUTION = (lost_updates,)

__all__ = [
    "PER_EXECUTION",
    "cycle_finding",
    "invariant_violations",
    "lock_order_edges",
    "lost_updates",
    "merge_races",
    "nonserializable_outcomes",
    "potential_deadlocks",
    "race_finding",
    "race_pairs",
    "races",
    "witness_ranks",
]
