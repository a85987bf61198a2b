"""User-stated invariants on final states and checks on outcomes (jcstress's forbidden outcomes)."""

from __future__ import annotations

from collections.abc import Callable

from ..findings import RawFinding


def invariant_violations(what: str, predicate: Callable, keys: list, make,
                         where: Callable[[BaseException], str | None] = lambda exc: None
                         ) -> list[tuple[object, RawFinding]]:
    """``(key, finding)`` for each key whose mapping ``make(key)`` the predicate rejects.

    A predicate rejects by returning something false or raising ``AssertionError``;
    any other exception is reported as the predicate's own error, with the ``file:line``
    ``where`` finds for it (the predicate's own line, not the state's fault).
    """
    name = getattr(predicate, "__name__", repr(predicate))
    found = []
    for key in keys:
        subject = make(key)
        try:
            ok, why = bool(predicate(subject)), ""
        except AssertionError as exc:
            ok, why = False, f": {exc}" if str(exc) else ""
        except Exception as exc:
            at = where(exc)
            message = (f"{what} {name} raised {type(exc).__name__}: {exc}{f' at {at}' if at else ''} on {subject} "
                       f"(a fault in the {what} itself, not in the threads)")
            found.append((key, RawFinding("invariant", "error", None, ("invariant-error", what) + key,
                                          message, {"exception": exc})))
            continue
        if not ok:
            message = f"{what} {name} fails on {subject}{why}"
            found.append((key, RawFinding("invariant", "error", None, ("invariant", what) + key, message,
                                          {"subject": subject})))
    return found
