"""Starting thread generators and locating where they are suspended.

The hot loop in :mod:`.execution` advances generators inline (a function call per
step would cost more than the step); this module holds the rare-path pieces:
starting a thread and capturing what it did as data, never as a leaking exception.
"""

from __future__ import annotations

import functools
import inspect
import os
import sysconfig
import types
from collections.abc import Callable

from ..plain.runtime import drive

#: Where explorer's own modules lie: a step yielded there has no source line worth showing.
_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# What starting a thread produced. Each is a plain value the execution inspects.
STARTED, RETURNED, RAISED, NOT_A_GENERATOR, ALREADY_RAN = range(5)


def start(factory: Callable[[], object]) -> tuple[int, object, object]:
    """Call a thread's factory and run it to its first step.

    Returns ``(STARTED, generator, first_step)``, ``(RETURNED, generator, value)`` for a
    thread with no steps, ``(RAISED, generator_or_None, exception)`` or
    ``(NOT_A_GENERATOR, None, what_the_factory_returned)`` or ``(ALREADY_RAN, generator,
    None)`` for a generator that was started before (one object handed to two threads, or
    made once for every run): sending into it would resume another thread's body.
    """
    try:
        gen = factory()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a thread body's exit is a finding
        return RAISED, None, exc
    if type(gen) is not types.GeneratorType:
        if inspect.iscoroutine(gen):
            gen.close()  # never awaited, and never will be: silence Python's warning
        return NOT_A_GENERATOR, None, gen
    if gen.gi_suspended or gen.gi_frame is None or gen.gi_running:
        return ALREADY_RAN, gen, None
    try:
        return STARTED, gen, gen.send(None)
    except StopIteration as stop:
        return RETURNED, gen, stop.value
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return RAISED, gen, exc


class _Abandoned(BaseException):
    """Thrown into a generator that ignored GeneratorExit, so it ends now and not in the GC."""


def abandon(gen) -> None:
    """End a generator whose ``close()`` failed (a ``finally`` that yields): thrown into a
    few times, it ends here, not when the collector closes it again and prints
    "Exception ignored ... generator ignored GeneratorExit"."""
    for _ in range(3):
        if gen.gi_frame is None:
            return
        try:
            gen.throw(_Abandoned)
        except BaseException:  # noqa: BLE001 - whatever it raises, it has ended
            return


def location(gen: object) -> str | None:
    """``file:line`` of the innermost ``yield`` a suspended generator is paused at; for
    plain code (explorer.program), the line of the program's own code that made the step."""
    frame = None
    while isinstance(gen, types.GeneratorType) and gen.gi_frame is not None:
        frame = gen.gi_frame
        gen = gen.gi_yieldfrom
    if frame is not None and frame.f_code is _DRIVE:
        return _plain_location(frame.f_locals.get("glet"))
    if frame is None or frame.f_code.co_filename.startswith(_OWN):
        return None  # explorer's own code (a pool worker between tasks): no line of the user's
    return f"{_short(frame.f_code.co_filename)}:{frame.f_lineno}"


def _plain_location(glet) -> str | None:
    """The innermost frame of a plain program's thread that is the program's own: not
    explorer's, not the standard library's (``with lock:`` in the program, not the lock's
    ``__enter__``; the program's ``executor.map`` call, not the executor's loop)."""
    frame = getattr(glet, "gr_frame", None)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_OWN) and not name.startswith(_STDLIB):
            return f"{_short(name)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


_DRIVE = drive.__code__
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep


def exception_location(exc: BaseException) -> str | None:
    """``file:line`` where an exception was raised: the innermost traceback frame of the
    user's code (not explorer's, nor the standard library's, unless only those ran)."""
    tb = exc.__traceback__
    if tb is None:
        return None
    innermost = tb
    found = False
    while tb is not None:
        # explorer's own frames (os._exit's stand-in, a plain program's patched objects) and
        # the standard library's (concurrent.futures re-raising a task's error, as_completed
        # meeting a future it does not know) are not where the user's code went wrong
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_OWN) and not (found and _in_stdlib(filename)):
            innermost = tb
            found = True
        tb = tb.tb_next
    if not found and innermost.tb_frame.f_code.co_filename.startswith(_OWN):
        return None  # raised where explorer called the code (a body called with the wrong arguments)
    return f"{_short(innermost.tb_frame.f_code.co_filename)}:{innermost.tb_lineno}"




def _in_stdlib(filename: str) -> bool:
    return filename.startswith(_STDLIB) and "-packages" not in filename  # not a package installed there


def _short(path: str) -> str:
    return _relative(path, os.getcwd())


@functools.lru_cache(maxsize=256)
def _relative(path: str, cwd: str) -> str:
    """``path`` relative to ``cwd`` when it lies below it (cached: every reported step asks)."""
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative
