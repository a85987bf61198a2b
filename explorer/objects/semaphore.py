"""``threading.Semaphore(n)`` and ``threading.BoundedSemaphore(n)``: a counter of permits.

``acquire`` blocks at zero and takes a permit; ``release`` gives one back (a bounded
semaphore refuses to go past its initial value, with ``threading``'s ``ValueError``).
Happens-before: a release publishes on the semaphore, an acquire absorbs everything
published there so far (a conservative join: it never invents a race).
Twin: the real ``threading.Semaphore`` or ``BoundedSemaphore``.
"""

from __future__ import annotations

import threading

from ..errors import ScenarioError
from .base import Declaration, Misuse, Model, Twin, timed, timed_out

TOO_MANY = "Semaphore released too many times"


class Semaphore(Declaration):
    """``Semaphore(value=1)``, as ``threading.Semaphore``: acquire blocks while it is zero.

    >>> Semaphore(2)
    Semaphore(2)
    """

    __slots__ = ("value",)
    _fields = ("value",)
    kind = "Semaphore"
    bounded = False
    serializable = True

    def __init__(self, value: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScenarioError(f"{type(self).__name__}({value!r}): the initial value must be an int >= 0, "
                                f"as threading requires ('semaphore initial value must be >= 0')")
        self.value = value
        self._frozen = True

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "acquire" and len(step) == 2

    def may_yield(self, name: str, step: tuple) -> bool:
        return step[0] == "acquire" and len(step) == 3 and timed(step[2])

    def model(self, name: str, run) -> SemaphoreModel:
        return SemaphoreModel(name, run, self.value, self.bounded)

    def twin(self, name: str, real) -> SemaphoreTwin:
        kind = threading.BoundedSemaphore if self.bounded else threading.Semaphore
        return SemaphoreTwin(name, real, kind(self.value))


class BoundedSemaphore(Semaphore):
    """``BoundedSemaphore(value=1)``: releasing past the initial value is an ``error``."""

    __slots__ = ()
    kind = "BoundedSemaphore"
    bounded = True


class SemaphoreModel(Model):
    __slots__ = ("bounded", "initial", "value")
    accepts = frozenset({"acquire", "release"})

    def __init__(self, name: str, run, value: int, bounded: bool) -> None:
        super().__init__(name, run)
        self.value = self.initial = value
        self.bounded = bounded

    def taken(self, value: int) -> None:
        """Start at ``value`` permits, fewer than the initial ones: plain code's bounded
        semaphore made at import and acquired since, which keeps its bound."""
        assert 0 <= value <= self.initial, f"[explorer internal bug] {value} permits of {self.initial}"
        self.value = value

    def enabled(self, thread: int, step: tuple) -> bool:
        return self.value > 0 or len(step) == 3 or step[0] == "release"

    def step(self, thread: int, step: tuple):
        if step[0] == "acquire":
            if self.value == 0:
                self.run.sync(thread)  # gave up: no edge at all
                if step[2][0]:
                    timed_out(self.run, thread, step[2][1])
                return False  # blocking=False, or the timeout fired
            self.value -= 1  # absorbs the semaphore's name, unrecorded (objects.base.edges)
            return True if len(step) == 3 else None
        n = step[2] if len(step) > 2 else 1  # release(n): n permits at once, as threading gives them
        if self.bounded and self.value + n > self.initial:
            raise Misuse(f"released BoundedSemaphore {self.name!r} past its initial value "
                         f"{self.initial}; threading raises ValueError('{TOO_MANY}') here",
                         ValueError(TOO_MANY), ("too-many-releases", self.name))
        self.value += n  # publishes on the semaphore's name, unrecorded (objects.base.edges)
        return None

    def key(self) -> object:
        return self.value

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return f"semaphore {self.name!r} at zero", None


class SemaphoreTwin(Twin):
    __slots__ = ("semaphore",)
    accepts = SemaphoreModel.accepts

    def __init__(self, name: str, real, semaphore: threading.Semaphore) -> None:
        super().__init__(name, real)
        self.semaphore = semaphore

    def step(self, thread: int, step: tuple):
        semaphore = self.semaphore
        if step[0] == "release":
            semaphore.release(step[2] if len(step) > 2 else 1)  # a BoundedSemaphore's own ValueError
            return None
        timeout = None if len(step) == 2 else step[2][1] if step[2][0] else 0
        got = self.real.block(lambda s: semaphore.acquire(True, s) if s > 0 else semaphore.acquire(False),
                              timeout, lambda: semaphore._value > 0)  # CPython's count of permits
        return got if len(step) == 3 else None
