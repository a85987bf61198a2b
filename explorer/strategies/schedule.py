"""Following one given schedule: replay is just another strategy."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ScheduleError


class FollowSchedule:
    """Runs the threads in exactly the order ``schedule`` (thread indices) gives, once.

    A thread that is not enabled where the schedule names it, or a schedule that
    ends while threads can still run, raises :class:`ScheduleError`; with
    ``extend=True`` a short schedule is finished by keeping the last thread running
    while it can (no preemption), else the first enabled thread.
    """

    def __init__(self, schedule: Sequence[int | str], names: Sequence[str], *, extend: bool = False,
                 index: dict[str, int] | None = None, scenario: str | None = None) -> None:
        self.schedule = list(schedule)
        self.names = tuple(names)
        # A name the scenario does not declare (a thread a spawn or a pool starts) is looked
        # up when its turn comes, in ``index``, which the run fills as threads start.
        self.index = index
        self.scenario = scenario
        self.extend = extend
        self.position = 0
        self.started = False
        self.last: int | None = None

    def _name(self, thread: int) -> str:
        """A thread's name, also for one that started after the schedule was made."""
        if thread < len(self.names):
            return self.names[thread]
        return next((name for name, i in (self.index or {}).items() if i == thread), f"thread {thread}")

    def begin(self) -> bool:
        if self.started:
            return False
        self.started = True
        return True

    def choose(self, enabled: list[int]) -> int:
        position = self.position
        self.position = position + 1
        if position < len(self.schedule):
            thread = self.schedule[position]
            if thread.__class__ is str:
                thread = self._started(thread, position)
            if thread not in enabled:
                raise ScheduleError(
                    f"schedule position {position} (step {position + 1}) asks for thread "
                    f"{self._name(thread)!r}, which is not enabled there; enabled: "
                    f"{[self._name(i) for i in enabled]}. {self._why(thread)}"
                )
        elif self.extend:
            thread = self.last if self.last in enabled else enabled[0]
        else:
            raise ScheduleError(
                f"the schedule has {len(self.schedule)} steps but threads "
                f"{[self._name(i) for i in enabled]} can still run after it; give the whole "
                f"schedule (finding.trace.schedule), or pass extend=True (--extend) to finish it without "
                f"further preemptions"
            )
        self.last = thread
        return thread

    def end(self) -> None:
        if self.position < len(self.schedule):
            raise ScheduleError(
                f"the schedule has {len(self.schedule)} steps but the execution ended after "
                f"{self.position}: no thread could run at step {self.position + 1} "
                f"(every thread finished, deadlocked, or one failed)"
            )

    def _started(self, name: str, position: int) -> int:
        number = None if self.index is None else self.index.get(name)
        if number is None:
            raise ScheduleError(
                f"schedule position {position} (step {position + 1}) names {name!r}, which is not a thread of "
                f"{'the scenario' if self.scenario is None else f'scenario {self.scenario!r}'}; its threads are "
                f"{list(self.names)}, and no spawn or pool has started a thread of that name before that step")
        if number >= len(self.names):
            self.names = tuple(sorted(self.index, key=self.index.get))
        return number

    @staticmethod
    def _why(thread: int) -> str:
        return ("It has finished, or it is waiting for a lock that is held: by another thread, "
                "or by itself when it acquires a plain Lock a second time.")
