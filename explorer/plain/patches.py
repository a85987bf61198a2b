"""Scoped, reversible patching: every change a run makes to a class or a module, undone
in reverse order when the run ends, whether it ended well, with an error or by Ctrl-C.

gevent's ``monkey`` taught the rules: patch explicitly, say per module what is touched
(docs/plain-code.md lists it), and put everything back.
"""

from __future__ import annotations

_ABSENT = object()
_CALL = object()


class Patches:
    """The changes made so far, each with what it replaced (or, for a change that knows
    better how to undo itself, the function that does: :meth:`then`)."""

    __slots__ = ("undo",)

    def __init__(self) -> None:
        self.undo: list[tuple[object, str, object]] = []

    def then(self, undo) -> None:
        """Call ``undo()`` when restoring, in its turn."""
        self.undo.append((undo, "", _CALL))

    def set(self, owner: object, attr: str, value: object) -> None:
        """``owner.attr = value`` for now; a class's own entry is told from an inherited one."""
        if isinstance(owner, type):
            before = owner.__dict__.get(attr, _ABSENT)
        else:
            before = vars(owner).get(attr, _ABSENT)
        self.undo.append((owner, attr, before))
        setattr(owner, attr, value)

    def restore(self) -> None:
        """Undo every change, the last first. Never raises part-way: each is tried."""
        problems = []
        while self.undo:
            owner, attr, before = self.undo.pop()
            try:
                if before is _CALL:
                    owner()
                elif before is _ABSENT:
                    delattr(owner, attr)
                else:
                    setattr(owner, attr, before)
            except Exception as exc:  # noqa: BLE001 - keep restoring the rest
                problems.append(f"{getattr(owner, '__name__', owner)}.{attr}: {exc}")
        assert not problems, f"[explorer internal bug] could not restore {problems}"
