"""``explorer.program``: a scenario made of plain threading code, explored unmodified.

>>> import threading
>>> import explorer
>>> class Counter:
...     def __init__(self):
...         self.value = 0
...     def increment(self):
...         self.value = self.value + 1
>>> def two_increments():
...     counter = Counter()
...     workers = [threading.Thread(target=counter.increment) for _ in range(2)]
...     for worker in workers:
...         worker.start()
...     for worker in workers:
...         worker.join()
...     return counter.value
>>> scenario = explorer.program("two increments", two_increments, track=[Counter])
>>> result = explorer.explore(scenario)
>>> sorted(str(state) for state in result.final_states)
['Counter#1.value=1', 'Counter#1.value=2']
>>> "lost-update" in {finding.kind for finding in result.findings}
True
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Mapping

from ..errors import ScenarioTypeError
from ..expect import Expect
from ..scenario import Scenario
from ..steps import Op
from .runs import PlainRuntime, active
from .runtime import Call, current, step
from .threads import Handle, fresh_main

__all__ = ["ProgramScenario", "program"]


class PlainConfig:
    """What the engine needs to run a plain program: its classes to track and its modules;
    and what real threads run of it (explorer/plain/real.py): ``main`` for the long form,
    ``setup``, ``threads`` and ``check`` for the short one (``main`` is then None)."""

    __slots__ = ("check", "main", "modules", "setup", "threads", "track")

    def __init__(self, track: tuple[type, ...], modules: tuple, main=None, setup=None, threads=None,
                 check=None) -> None:
        self.track = track
        self.modules = modules
        self.main, self.setup, self.threads, self.check = main, setup, threads, check

    def runtime(self, program) -> PlainRuntime:
        return PlainRuntime(program, self)


class ProgramScenario(Scenario):
    """A :class:`Scenario` whose one thread, ``main``, runs plain code (``plain`` says how)."""

    __slots__ = ("plain",)


def program(
    name: str,
    main: Callable[[], object] | None = None,
    *,
    track: Iterable[type] | type = (),
    expect: Expect | None = None,
    invariant: Callable | None = None,
    check: Callable | None = None,
    setup: Callable[[], object] | None = None,
    threads: Mapping[str, Callable] | None = None,
    spurious_wakeups: bool = False,
) -> Scenario:
    """A scenario that runs plain Python code using ``threading``, ``queue``,
    ``concurrent.futures`` and ``time``, unchanged.

    ``main()`` runs as the thread ``"main"``; what it returns is ``outcome["main"]``. It
    may start threads, executors and timers. Every read and write of an attribute of an
    instance of a class in ``track`` is a step, and so is every operation on a threading
    object the program makes; ``time.sleep`` is a point where another thread may run,
    in virtual time. Final states hold the tracked instances' attributes
    (``FakeDatabase#1.value=1``).

    The short form, for the common case: ``setup()`` makes the shared object, each of
    ``threads`` (name -> function of that object) runs as a thread of that name, and
    ``check(obj)``, once they have all ended, says whether the result is acceptable (a
    false value is an ``invariant`` finding). A class given as ``setup`` is tracked.

    ``expect``, ``invariant`` (on the final state) and ``check`` (on the outcome, in the
    long form) are as for :class:`Scenario`.
    """
    where = f"program {name!r}"
    track = _classes(where, track)
    if threads is not None or setup is not None:
        if main is not None:
            raise ScenarioTypeError(f"{where}: give either main, or setup= and threads= (the short form), not both")
        if not threads:
            raise ScenarioTypeError(f"{where}: the short form needs threads={{'T0': lambda obj: ...}}, "
                                    f"one function of the setup object per thread")
        threads = dict(threads)
        for thread, body in threads.items():
            _check_plain(where, f"thread {thread!r}", body)
        if setup is not None:
            _check_plain(where, "setup", setup)
            if isinstance(setup, type) and setup not in track:
                track = track + (setup,)
        if check is not None and not callable(check):
            raise ScenarioTypeError(f"{where}: check must be a function of the setup object, got {check!r}")
        body = _short_form(setup, threads, check)
        functions = [setup, *threads.values(), check]
        verdict = None if check is None else _verdict(check)
    else:
        if main is None:
            raise ScenarioTypeError(f"{where}: give main, a plain function to run as the main thread "
                                    f"(or setup= and threads=)")
        _check_plain(where, "main", main)
        body = main
        functions = [main]
        verdict = check
    modules = _modules(functions + list(track))

    def run_main():
        return Call(active(), _then_end, (body,), {}, "main", fresh_main(), 0.0)()

    scenario = ProgramScenario.__new__(ProgramScenario)
    config = PlainConfig(track, modules, main, setup, threads, check) if main is None else \
        PlainConfig(track, modules, main)
    object.__setattr__(scenario, "plain", config)
    Scenario.__init__(scenario, name, threads={"main": run_main}, invariant=invariant, check=verdict,
                      expect=expect, spurious_wakeups=spurious_wakeups)
    caller = sys._getframe(1)
    object.__setattr__(scenario, "source", f"{caller.f_code.co_filename}:{caller.f_lineno}")
    return scenario


def _then_end(body):
    """``main``, then, when it started daemon threads, the program's end: a step that waits
    for every other thread that is no daemon (as the interpreter's exit does) and after
    which the daemons stop wherever they are. It is dependent with every step, so every
    strategy tries each daemon step on both sides of it."""
    value = body()
    here = current()
    if here.runtime.daemons_started:
        step(Op("end", "program"), here)
    return value


def _verdict(check):
    """The short form's check on the outcome: main returns what ``check(obj)`` said."""
    def verdict(outcome) -> bool:
        return outcome["main"] is not False
    verdict.__qualname__ = verdict.__name__ = getattr(check, "__qualname__", "check")
    return verdict


def _short_form(setup, threads: dict, check):
    def main():
        here = current()
        runtime = here.runtime
        shared = setup() if setup is not None else None
        for name, fn in threads.items():
            args = (shared,) if setup is not None else ()
            step(Op("spawn", name, Call(runtime, fn, args, {}, name, Handle(name), here.clock), ()), here)
        for name in threads:
            step(Op("join", name), here)
        if check is not None:
            return bool(check(shared))
        return None
    main.__qualname__ = main.__name__ = "main"
    return main


def _check_plain(where: str, what: str, fn: object) -> None:
    if not callable(fn):
        raise ScenarioTypeError(f"{where}: {what} must be a function, got {fn!r}")
    target = getattr(fn, "func", fn)
    if inspect.isgeneratorfunction(target) or inspect.iscoroutinefunction(target):
        raise ScenarioTypeError(
            f"{where}: {what} is a {'generator' if inspect.isgeneratorfunction(target) else 'coroutine'} "
            f"function; program() runs plain code as it is written. A body that yields steps belongs in "
            f"Scenario(threads={{...}})")


def _classes(where: str, track) -> tuple[type, ...]:
    if isinstance(track, type):
        track = (track,)
    try:
        classes = tuple(track)
    except TypeError:
        raise ScenarioTypeError(f"{where}: track must be a list of classes, got {track!r}") from None
    for cls in classes:
        if not isinstance(cls, type):
            raise ScenarioTypeError(f"{where}: track takes classes (track=[FakeDatabase]), got {cls!r}")
        if cls.__module__ == "builtins":
            raise ScenarioTypeError(f"{where}: track takes your own classes; {cls.__name__} is built in, and "
                                    f"its instances' attributes cannot be hooked")
    return classes


def _modules(things) -> tuple:
    """The user's modules the program's code comes from (not the standard library's)."""
    found = {}
    stdlib = sys.stdlib_module_names
    for thing in things:
        name = getattr(getattr(thing, "func", thing), "__module__", None)
        module = sys.modules.get(name) if name else None
        if module is None or name.split(".")[0] in stdlib or name.startswith("explorer."):
            continue
        found[name] = module
    return tuple(found.values())
