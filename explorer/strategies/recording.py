"""A wrapper that records every execution's schedule, around any inner strategy."""

from __future__ import annotations


class Recording:
    """Passes every call to ``inner`` and keeps each execution's choices in ``schedules``."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.schedules: list[tuple[int, ...]] = []
        self._current: list[int] = []

    def begin(self) -> bool:
        self._current = []
        return self.inner.begin()

    def choose(self, enabled: list[int]) -> int:
        thread = self.inner.choose(enabled)
        self._current.append(thread)
        return thread

    def end(self) -> None:
        self.schedules.append(tuple(self._current))
        self.inner.end()

    @property
    def incomplete_reason(self) -> str | None:
        return getattr(self.inner, "incomplete_reason", None)
