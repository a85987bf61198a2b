"""``threading.local`` in plain code: one set of attributes per thread of the program.

CPython keeps a ``threading.local``'s attributes per OS thread, and a program's threads
are greenlets on one OS thread (:mod:`.runtime`): left alone, every thread would see and
change the others' values, and exploration would report outcomes real threads cannot
reach. So the attributes are swapped as the threads take turns: while a program's thread
uses a local, the local's own dict holds that thread's attributes, and the others' wait
in a table the run keeps (``PlainRuntime.locals``). A thread that meets a local for the
first time sees it as ``threading`` shows it: empty, after the class's ``__init__`` has
run again with the arguments the local was made with. The thread that made it, and for a
local made at import ``main`` (the importing thread), see the attributes it was given.

No step is taken: what a thread keeps in its own local no other thread reads, so it is
no shared state (an object stored there and shared by other means is tracked as such).

What is patched, for a search: ``threading.local`` is :class:`Local` (a subclass of the
real one, so ``isinstance`` works), and each subclass of the real ``threading.local``
defined at import outside the standard library gets the same hooks (:func:`install`);
a ``threading.local()`` bound to a module global at import stands in as a fresh
:class:`Local` with its attributes in each run (:func:`twin`). Outside a program's thread
everything behaves as CPython's.
"""

from __future__ import annotations

import _thread
import _threading_local
import sys
import threading

from .runtime import current
from .threads import Handle

__all__ = ["Local", "install", "put_back", "twin"]

_REAL = _thread._local
_real_getattribute = _REAL.__getattribute__
_real_setattr = _REAL.__setattr__
_real_delattr = _REAL.__delattr__


class _Slots:
    """One local's attributes in one run: ``owner``, the thread whose attributes its dict
    holds now; ``kept``, every other thread's; ``first``, what the making thread (or,
    made at import, ``main``) sees first; ``args``, what ``__init__`` is called again with."""

    __slots__ = ("args", "first", "kept", "local", "maker", "owner")

    def __init__(self, local, maker, first: dict, args) -> None:
        self.local = local  # held: its id stays its own for the run
        self.maker = maker
        self.owner = maker
        self.first = first
        self.kept: dict = {}
        self.args = args


def _key(here):
    """The thread a greenlet runs as: a ``threading.Thread``, or by the name it was given
    main and a pool's worker (each task on a worker is a greenlet of its own, with a handle
    of its own, and its locals are its worker's; renaming the thread keeps them)."""
    handle = here.handle
    return handle.label if handle.__class__ is Handle else handle


def _turn(local, init) -> None:
    """Make ``local``'s dict hold the attributes of the thread running now."""
    here = current()
    if here is None:
        return
    table = here.runtime.locals
    entry = table.get(id(local))
    if entry is None:  # made before this run (at import): main's attributes are those it has
        entry = table[id(local)] = _Slots(local, "MainThread", dict(_real_getattribute(local, "__dict__")), None)
    me = _key(here)
    if entry.owner == me:
        return
    own = _real_getattribute(local, "__dict__")
    entry.kept[entry.owner] = dict(own)
    own.clear()
    mine = entry.kept.pop(me, None)
    entry.owner = me
    if mine is not None:
        own.update(mine)
    elif me == entry.maker:
        own.update(entry.first)
    elif init is not object.__init__:
        args, kwargs = entry.args if entry.args is not None else ((), {})
        init(local, *args, **kwargs)  # as threading does for each thread that comes to it


def _made(local, args, kwargs) -> None:
    """A local made now, in a program's thread: its maker and its arguments."""
    here = current()
    if here is not None:
        here.runtime.locals[id(local)] = _Slots(local, _key(here), {}, (args, kwargs))


def _hooks(real_new, real_getattribute, real_setattr, real_delattr) -> dict:
    """The class attributes that make a subclass of the real local per program thread."""

    def __new__(cls, *args, **kwargs):
        local = real_new(cls, *args, **kwargs)
        _made(local, args, kwargs)
        return local

    def __getattribute__(self, name):
        _turn(self, type(self).__init__)
        return real_getattribute(self, name)

    def __setattr__(self, name, value):
        _turn(self, type(self).__init__)
        real_setattr(self, name, value)

    def __delattr__(self, name):
        _turn(self, type(self).__init__)
        real_delattr(self, name)

    return {"__new__": staticmethod(__new__), "__getattribute__": __getattribute__,
            "__setattr__": __setattr__, "__delattr__": __delattr__}


# The dict is filled in first (``__dict__`` hands back the thread's own), so the hooks'
# real_* are the real local's.
Local = type("local", (_REAL,), {"__module__": "threading", "__doc__": _REAL.__doc__, "__slots__": (),
                                 **_hooks(_REAL.__new__, _real_getattribute, _real_setattr, _real_delattr)})


def install(patches) -> None:
    """``threading.local`` is :class:`Local` for the search, and each subclass of the real
    one defined outside the standard library (and outside explorer) gets its hooks."""
    patches.set(threading, "local", Local)
    for cls in _REAL.__subclasses__():
        if cls is Local or cls.__module__.partition(".")[0] in _LEFT_ALONE:
            continue
        for name, hook in _hooks(cls.__new__, cls.__getattribute__, cls.__setattr__, cls.__delattr__).items():
            patches.set(cls, name, hook)


_LEFT_ALONE = frozenset(sys.stdlib_module_names) | {"explorer", "greenlet", "_pytest", "pytest"}


def twin(original, runtime) -> Local:
    """A fresh :class:`Local` for a ``threading.local()`` a module made at import: in each
    run, ``main`` sees the attributes the original has now; other threads, none."""
    if isinstance(original, _threading_local.local):
        first = dict(original.__dict__)
    else:
        first = dict(_real_getattribute(original, "__dict__"))
    made = _REAL.__new__(Local)
    runtime.locals[id(made)] = _Slots(made, "MainThread", first, None)
    _real_getattribute(made, "__dict__").update(first)
    return made


def put_back(runtime) -> None:
    """At a run's end: each local made before the run holds main's attributes again, as
    they were when the run began."""
    for entry in runtime.locals.values():
        if entry.args is None:
            own = _real_getattribute(entry.local, "__dict__")
            own.clear()
            own.update(entry.first)
    runtime.locals.clear()
