"""``threading.Event``: a flag that threads wait for.

``set_event`` sets it and wakes every waiter; ``clear_event`` resets it; ``is_set``
sends it back; ``wait`` sends back True at once when it is set, else parks the thread,
which then returns True in a second step (``wake``) once set, as ``threading`` does even
if the flag was cleared again before it ran; with a timeout that step may also run
unset and send back False. Happens-before: ``set_event`` publishes on the event; a
``wait`` or ``is_set`` that sees it set absorbs it.
Twin: a real ``threading.Event`` whose inner condition is a :class:`WaitingCondition`.
"""

from __future__ import annotations

import threading

from ..steps import Op
from .base import Continue, Declaration, Model, Twin, timed_out
from .condition import WaitingCondition


class Event(Declaration):
    """``Event()``, as ``threading.Event``: starts unset."""

    __slots__ = ()
    kind = "Event"

    def __init__(self) -> None:
        self._frozen = True

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "wake"

    def may_yield(self, name: str, step: tuple) -> bool:
        return step[0] == "wake" and bool(step[2])

    def model(self, name: str, run) -> EventModel:
        return EventModel(name, run)

    def twin(self, name: str, real) -> EventTwin:
        return EventTwin(name, real)


class EventModel(Model):
    __slots__ = ("flag", "waiters")
    accepts = frozenset({"set_event", "clear_event", "is_set", "wait", "wake"})

    def __init__(self, name: str, run) -> None:
        super().__init__(name, run)
        self.flag = False
        self.waiters: dict[int, bool] = {}  # thread -> woken by a set

    def enabled(self, thread: int, step: tuple) -> bool:
        return step[0] != "wake" or self.waiters.get(thread, True) or step[2] is not None

    def step(self, thread: int, step: tuple):
        kind = step[0]
        run = self.run
        if kind == "set_event":
            self.flag = True
            for waiter in self.waiters:
                self.waiters[waiter] = True
            run.sync(thread, publish=self.name)
            return None
        if kind == "clear_event":
            self.flag = False
            return None
        if kind == "is_set":
            if self.flag:
                run.sync(thread, absorb=self.name)
            return self.flag
        if kind == "wait":
            if self.flag:
                run.sync(thread, absorb=self.name)
                return True
            self.waiters[thread] = False
            return Continue(Op("wake", self.name, step[2] if len(step) > 2 else None))
        woken = self.waiters.pop(thread, True)
        if woken:
            run.sync(thread, absorb=self.name)
        else:
            timed_out(run, thread, step[2])
        return woken

    def key(self) -> object:
        return (self.flag, tuple(sorted(self.waiters.items())))

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return f"event {self.name!r} to be set", None


class EventTwin(Twin):
    __slots__ = ("event",)
    accepts = EventModel.accepts

    def __init__(self, name: str, real) -> None:
        super().__init__(name, real)
        self.event = threading.Event()
        # Event.wait waits on this condition (CPython keeps it in _cond): make that wait one
        # that polls and that parks a two-phase wait, as a Condition twin's does.
        self.event._cond = WaitingCondition(threading.Lock(), real)

    def step(self, thread: int, step: tuple):
        kind = step[0]
        event = self.event
        if kind == "set_event":
            event.set()
            return None
        if kind == "clear_event":
            event.clear()
            return None
        if kind == "is_set":
            return event.is_set()
        timeout = step[2] if len(step) > 2 else None
        local = self.real.local
        local.follow = Op("wake", self.name, timeout)  # taken only if the flag is not set yet
        try:
            return event.wait(timeout)
        finally:
            local.follow = None
