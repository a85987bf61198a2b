"""User-stated invariants on final states and checks on outcomes (jcstress's forbidden outcomes)."""

from __future__ import annotations

from collections.abc import Callable

from ..findings import RawFinding


def invariant_violations(what: str, predicate: Callable, keys: list, make) -> list[tuple[object, RawFinding]]:
    """``(key, finding)`` for each key whose mapping ``make(key)`` the predicate rejects.

    A predicate rejects by returning something false or raising ``AssertionError``;
    any other exception is reported as the predicate's own error.
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
            message = f"{what} {name} raised {type(exc).__name__}: {exc} on {subject}"
            found.append((key, RawFinding("invariant", "error", None, ("invariant-error", what) + key,
                                          message, {"exception": exc})))
            continue
        if not ok:
            message = f"{what} {name} fails on {subject}{why}"
            found.append((key, RawFinding("invariant", "error", None, ("invariant", what) + key, message,
                                          {"subject": subject})))
    return found
