"""Shared variables. ``read`` and ``write`` are executed by the engine itself (the fast
path); this module is the rest of a variable's model: ``update(var, fn)``, one atomic
read-modify-write that sends back the old value and is recorded as ``(old, new)``.

Dependence: two accesses of one variable are dependent unless both read. Races: an
``update`` is atomic, so two updates never race with each other; an update and a
plain read or write of the same variable, unordered by happens-before, do.
Twin: on real threads every read, write and update of the store holds one lock, so an
update is atomic against the others, as the model's steps are.
"""

from __future__ import annotations

from .base import Model, Recorded, Throw, Twin


class VariableModel(Model):
    __slots__ = ()
    accepts = frozenset({"update"})

    def step(self, thread: int, step: tuple):
        values = self.run.values
        old = values[self.name]
        try:
            new = step[2](old)
        except Exception as exc:  # noqa: BLE001 - raised in the thread, at its update
            raise Throw(exc) from None
        values[self.name] = new
        return Recorded(old, (old, new))


class VariableTwin(Twin):
    __slots__ = ()
    accepts = VariableModel.accepts

    def step(self, thread: int, step: tuple):
        real = self.real
        with real.store_lock:
            old = real.store[self.name]
            try:
                new = step[2](old)
            except Exception as exc:  # noqa: BLE001 - thrown into the thread, at its update
                raise Throw(exc) from None
            real.store[self.name] = new
        return Recorded(old, (old, new))
