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

    def __init__(self, schedule: Sequence[int], names: Sequence[str], *, extend: bool = False,
                 scenario: str | None = None, declared: int | None = None) -> None:
        self.schedule = list(schedule)
        self.names = tuple(names)
        self.extend = extend
        self.position = 0
        self.started = False
        self.last: int | None = None
        # Threads numbered beyond the scenario's ``declared`` ones are started during the
        # run (a spawn, a pool's worker); one the schedule names that no run has started
        # by then is no thread of ``scenario`` at all.
        self.scenario = scenario
        self.declared = declared
        self.seen: set[int] = set()

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
            if self.declared is not None:
                self.seen.update(enabled)
            if thread not in enabled:
                if self.declared is not None and thread >= self.declared and thread not in self.seen:
                    raise ScheduleError(
                        f"schedule position {position} names {self.names[thread]!r}, which is not a thread "
                        f"of scenario {self.scenario!r}, nor one started before step {position + 1} (by a "
                        f"spawn or a pool); its threads are {list(self.names[:self.declared])}")
                raise ScheduleError(
                    f"schedule position {position} (step {position + 1}) asks for thread "
                    f"{self.names[thread]!r}, which is not enabled there; enabled: "
                    f"{[self.names[i] for i in enabled]}. {self._why(thread)}"
                )
        elif self.extend:
            thread = self.last if self.last in enabled else enabled[0]
        else:
            raise ScheduleError(
                f"the schedule has {len(self.schedule)} steps but threads "
                f"{[self.names[i] for i in enabled]} can still run after it; give the whole "
                f"schedule (finding.trace.schedule), or pass extend=True to finish it without "
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

    @staticmethod
    def _why(thread: int) -> str:
        return ("It has finished, or it is waiting for a lock that is held: by another thread, "
                "or by itself when it acquires a plain Lock a second time.")
