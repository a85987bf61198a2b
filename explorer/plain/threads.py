"""``threading.Thread`` (and so ``Timer``) and ``current_thread`` in plain code.

``Thread`` is patched in place for a run: a thread made in a program's thread is named as
``threading`` names it in a fresh interpreter (``Thread-1 (worker)``, counted per
creating thread), ``start`` is the vocabulary's ``spawn``, ``join`` its ``join`` (a
``timeout`` may run out at any point), ``is_alive`` asks the thread's handle. Its
``run`` is the body, so subclasses that override ``run`` work as written. A daemon
thread does not keep the program alive: once every other thread has ended, the run
ends (as the interpreter's exit ends daemon threads). An exception that ends a thread
is an ``error`` finding (threading would print it and go on; explorer never hides it).
A ``Thread`` made at import and not started stands in fresh, unstarted, for each run,
with its target, arguments, daemon flag and the name it was given (or, given none, the
name ``threading`` gives the first thread a fresh interpreter makes, ``Thread-1 (worker)``).
"""

from __future__ import annotations

import re
import threading
import zlib

from ..steps import Op
from .clock import wait_for_end
from .runtime import Call, NotModelled, current, step

__all__ = ["Handle", "afresh", "at_import", "current_thread", "install", "main_thread", "stand_in"]

_real_current_thread = threading.current_thread
_real_get_ident = threading.get_ident
_real_main_thread = threading.main_thread
_real_init = threading.Thread.__init__


def ident_of(name: str) -> int:
    """A thread's ident in a run: the same for the same name in every run and process."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF or 1


class Handle:
    """What ``threading.current_thread()`` returns in the main thread or a pool's worker."""

    __slots__ = ("daemon", "label", "name")

    def __init__(self, name: str, daemon: bool = False, label: str | None = None) -> None:
        self.name = name
        self.daemon = daemon
        # its name in the run (the one it was given, which renaming it leaves; a worker named
        # apart from a thread of the program's of the same name): what its ident and its
        # locals (plain/locals.py) follow, as the OS thread's do
        self.label = name if label is None else label

    def is_alive(self) -> bool:
        return True

    def getName(self) -> str:  # noqa: N802 - threading's old name
        return self.name

    def join(self, timeout=None) -> None:
        here = current()
        if here is not None and here.handle is self:
            raise RuntimeError("cannot join current thread")  # as threading says it
        raise NotModelled("joining the main thread or a pool's worker thread is not modelled yet; "
                          "join the threads you started, or shut the pool down")

    @property
    def ident(self) -> int:
        return ident_of(self.label)

    native_id = ident

    def __repr__(self) -> str:
        return f"<explorer thread {self.name}>"


MAIN = Handle("MainThread")


def fresh_main() -> Handle:
    """:data:`MAIN` as every run starts with it: it is one handle for every run (a module's
    ``threading.main_thread()`` from import stands for it), so a run that renamed its main
    thread left that name to the next run's."""
    MAIN.name, MAIN.daemon = "MainThread", False
    return MAIN


def current_thread():
    here = current()
    return _real_current_thread() if here is None else here.handle


def main_thread():
    """``threading.main_thread()``: in a program's thread, its ``main``."""
    return _real_main_thread() if current() is None else MAIN


_real_enumerate = threading.enumerate
_real_active_count = threading.active_count


def _alive() -> list:
    """The program's threads running now, as ``threading.enumerate()`` lists them: one step,
    which sees every thread's end (a pool's workers are listed by a handle of their name)."""
    here = current()
    handles = here.runtime.handles
    return [MAIN if name == "main" else handles.get(name) or Handle(name)
            for name in step(Op("alive_threads", "main"), here)]


def enumerate_threads():
    """``threading.enumerate()``: the real threads outside a run, the program's in one."""
    return _real_enumerate() if current() is None else _alive()


def active_count() -> int:
    """``threading.active_count()``: the real count outside a run, the program's in one."""
    return _real_active_count() if current() is None else len(_alive())


def get_ident() -> int:
    here = current()
    return _real_get_ident() if here is None else here.handle.ident


def _numbered(runtime, label: str, target) -> str:
    """The name ``threading`` gives a thread made with none, counted per making thread."""
    n = runtime.count("Thread", label)
    suffix = f" ({target.__name__})" if getattr(target, "__name__", None) else ""
    return f"Thread-{n}{suffix}" if label == "main" else f"{label}/Thread-{n}{suffix}"


def install(patches) -> None:
    cls = threading.Thread
    real_init, real_start, real_join, real_is_alive = cls.__init__, cls.start, cls.join, cls.is_alive

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        here = current()
        if here is None or here.internal:
            return real_init(self, group, target, name, args, kwargs, daemon=daemon)
        here.internal += 1  # threading's own Event and lock inside: real ones, never waited on
        try:
            real_init(self, group, target, name, args, kwargs, daemon=daemon)
        finally:
            here.internal -= 1
        if name is None:
            self._name = _numbered(here.runtime, here.label, target)
        self.__dict__["_explorer_started"] = False

    def start(self):
        if "_explorer_started" not in self.__dict__:
            return real_start(self)
        if self.__dict__["_explorer_started"]:
            raise RuntimeError("threads can only be started once")
        here = current()
        runtime = here.runtime
        name = self.__dict__["_explorer_name"] = runtime.thread_name(self._name)
        call = Call(runtime, self.run, (), {}, name, self, here.clock)
        self.__dict__["_explorer_started"] = True
        self._ident = self._native_id = ident_of(name)
        runtime.handles[name] = self  # what threading.enumerate() lists for it
        step(Op("spawn", name, call, ()), here)
        if self.daemon:
            runtime.run.daemons.add(runtime.program.thread_index[name])
            runtime.daemons_started = True

    def join(self, timeout=None):
        started = self.__dict__.get("_explorer_started")
        if started is None:
            return real_join(self, timeout)
        if not started:
            raise RuntimeError("cannot join thread before it is started")
        name = self.__dict__["_explorer_name"]
        if timeout is None:
            wait_for_end(Op("join", name), name)
        else:
            wait_for_end(Op("join", name, max(timeout, 0)), name, max(timeout, 0))

    def is_alive(self):
        started = self.__dict__.get("_explorer_started")
        if started is None:
            return real_is_alive(self)
        return bool(started) and step(Op("is_alive", self.__dict__["_explorer_name"]))

    real_daemon = cls.__dict__["daemon"]

    def set_daemon(self, daemonic):
        if self.__dict__.get("_explorer_started"):  # threading's own check reads a real Event start never sets
            raise RuntimeError("cannot set daemon status of active thread")
        real_daemon.fset(self, daemonic)

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "daemon", property(real_daemon.fget, set_daemon, doc=real_daemon.__doc__))
    patches.set(cls, "start", start)
    patches.set(cls, "join", join)
    patches.set(cls, "is_alive", is_alive)
    patches.set(threading, "enumerate", enumerate_threads)
    patches.set(threading, "active_count", active_count)
    patches.set(threading, "activeCount", active_count)
    patches.set(threading, "current_thread", current_thread)
    patches.set(threading, "main_thread", main_thread)
    patches.set(threading, "get_ident", get_ident)
    patches.set(threading, "currentThread", current_thread)


# ---- made at import (modules.py) ------------------------------------------------------------

_NUMBERED = re.compile(r"Thread-\d+( \(.*\))?")  # the name threading gives a thread given none


def at_import(thread) -> tuple | str:
    """``(target, args, kwargs, the name it was given or None, daemon)``, or why no fresh
    one can be in its state."""
    if thread._started.is_set():  # threading's own state, read once per search
        return ("and started before the exploration; a thread runs once, and every run needs its own: make it "
                "inside the program (in main), and start it there")
    given = None if _NUMBERED.fullmatch(thread._name) else thread._name
    return (thread._target, thread._args, thread._kwargs, given, thread._daemonic)


def stand_in(runtime, name: str, state: tuple, twin) -> threading.Thread:
    target, args, kwargs, given, daemon = state
    made = threading.Thread.__new__(threading.Thread)
    _real_init(made, None, target, given, args, kwargs, daemon=daemon)  # threading's own parts, real ones
    if given is None:  # made before any thread of main's, as at import: Thread-1 (worker)
        made._name = _numbered(runtime, "main", target)
    made.__dict__["_explorer_started"] = False
    return made


def afresh(name: str, state: tuple, twin) -> threading.Thread:
    target, args, kwargs, given, daemon = state
    return threading.Thread(target=target, name=given, args=args, kwargs=kwargs, daemon=daemon)
