"""User-stated invariants on final states and checks on outcomes (jcstress's forbidden outcomes)."""

from __future__ import annotations

from collections.abc import Callable

from ..findings import RawFinding


class PredicateHung(Exception):
    """An invariant or check that ran past ``step_timeout`` without returning (the engine
    raises it in place of its watchdog's interrupt)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _called(predicate: Callable, subject: object) -> object:
    return predicate(subject)


def _said(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in where its ``__str__`` raises."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - the user's exception, the user's __str__
        return f"<{type(exc).__name__} whose str() raised>"


def _name(predicate: Callable) -> str:
    try:
        name = getattr(predicate, "__name__", None)
        return name if isinstance(name, str) else repr(predicate)
    except Exception:  # noqa: BLE001 - a callable object whose __name__ or repr raises
        return f"<{type(predicate).__name__} object>"


def invariant_violations(what: str, predicate: Callable, keys: list, make,
                         where: Callable[[BaseException], str | None] = lambda exc: None,
                         call: Callable[[Callable, object], object] = _called,
                         ) -> list[tuple[object, RawFinding]]:
    """``(key, finding)`` for each key whose mapping ``make(key)`` the predicate rejects.

    A predicate rejects by returning something false or raising ``AssertionError``;
    any other exception (``SystemExit`` too) is reported as the predicate's own error, with
    the ``file:line`` ``where`` finds for it (the predicate's own line, not the state's
    fault). ``call(predicate, subject)`` runs it: the engine's runs it where its watchdog
    sees it, and raises :class:`PredicateHung` for one that never returns, which is
    reported once, and the predicate is not run again on the other keys. Ctrl-C and the
    time limit (``KeyboardInterrupt``) are the search's to handle.
    """
    name = _name(predicate)
    found = []
    for index, key in enumerate(keys):
        subject = make(key)
        try:
            ok, why = bool(call(predicate, subject)), ""
        except AssertionError as exc:
            said = _said(exc)
            ok, why = False, f": {said}" if said else ""
        except KeyboardInterrupt:
            raise
        except PredicateHung as exc:
            left = len(keys) - index - 1
            message = (f"{what} {name} ran for more than step_timeout={exc.seconds:g}s on {subject} without "
                       f"returning (a fault in the {what} itself, not in the threads: an endless loop, or code "
                       f"that blocks)" + (f"; it was not run on the other {left} outcome{'s' if left > 1 else ''}" if left else ""))
            found.append((key, RawFinding("invariant", "error", None, ("invariant-error", what) + key,
                                          message, {"step_timeout": exc.seconds})))
            break
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: the predicate's fault, never the search's end
            at = where(exc)
            message = (f"{what} {name} raised {type(exc).__name__}: {_said(exc)}{f' at {at}' if at else ''} on "
                       f"{subject} (a fault in the {what} itself, not in the threads)")
            found.append((key, RawFinding("invariant", "error", None, ("invariant-error", what) + key,
                                          message, {"exception": exc})))
            continue
        if not ok:
            message = f"{what} {name} fails on {subject}{why}"
            found.append((key, RawFinding("invariant", "error", None, ("invariant", what) + key, message,
                                          {"subject": subject})))
    return found
