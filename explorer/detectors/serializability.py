"""Non-serializable outcomes: results no serial order of the threads can produce.

This catches what the lost-update pattern misses, such as the seed's
``db = db + (old + 1)`` where the second read is fresh but the first is stale.
"""

from __future__ import annotations

from ..findings import RawFinding
from .._text import shown
from ..outcomes import outcome_key

#: Beyond this many threads the k! serial orders are too many to run; the check is skipped.
MAX_THREADS = 7


def nonserializable_outcomes(outcomes: list[tuple[tuple, tuple]], serial: set[tuple[tuple, tuple]],
                             var_names: tuple[str, ...], thread_names: tuple[str, ...]) -> list[tuple[tuple, RawFinding]]:
    """``(outcome key, finding)`` for each outcome (values, returns) not in ``serial``.

    An outcome whose final state no serial order gives is flagged for its state;
    one whose state is serial but whose return values are not, for its returns.
    """
    serial_states = {outcome_key(key[0], ()) for key in serial}  # the values, told apart from equal ones
    listed = "; ".join(sorted(_outcome(var_names, thread_names, key) for key in serial)) or "(none completed)"
    found = []
    for key in outcomes:
        if key in serial:
            continue
        what = "final state" if outcome_key(key[0], ()) not in serial_states else "outcome (return values)"
        message = (f"{what} {_outcome(var_names, thread_names, key)} is not serializable: no order of "
                   f"running the threads one after another produces it. Serial outcomes: {listed}")
        finding = RawFinding("nonserializable", "error", None, ("nonserializable",) + key, message,
                             {"outcome": key[:2], "serial": sorted((other[:2] for other in serial), key=shown)})
        found.append((key, finding))
    return found


def _outcome(var_names, thread_names, key) -> str:
    values, returns = key[0], key[1]
    parts = [f"{n}={shown(v)}" for n, v in zip(var_names, values)]
    parts += [f"{n} returned {shown(v)}" for n, v in zip(thread_names, returns) if v is not None]
    return ", ".join(parts)
