"""The blind spot, shown: attributes and globals that more than one thread writes, but that
are not tracked (so their accesses are no steps, and no interleaving of them is explored).

``untracked(scenario)`` runs a few executions of a plain program with an opcode tracer on
the program's own frames (``sys.settrace`` with ``f_trace_opcodes``; slow, which is why it
is opt-in) and records every ``STORE_ATTR``/``DELETE_ATTR`` on an instance of a class
not in ``track=``, and every ``STORE_GLOBAL``/``DELETE_GLOBAL``, with the thread that
did it. Those written by two threads or more come back as :class:`Untracked` entries,
each saying what to add (``track=[Account]``); a global is better moved into a tracked
object. The object a ``STORE_ATTR`` writes to is found from the instruction that loaded
it (``self.x = ...``, ``obj.x = ...``, a closure's cell); a write through an expression
(``a.b.x = ...``) names the class of ``a.b`` when it can be found that way, else none.
"""

from __future__ import annotations

import dis
import os
import sys
import sysconfig
from dataclasses import dataclass

from .runtime import current

__all__ = ["Untracked", "untracked"]

_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep
# the instructions that load a store's target, by what they load from; a pair of loads in
# one instruction (3.13's LOAD_FAST_LOAD_FAST) names two locals, the second the target
_LOADS = {"LOAD_FAST": "local", "LOAD_FAST_CHECK": "local", "LOAD_FAST_BORROW": "local",
          "LOAD_FAST_LOAD_FAST": "local", "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "local",
          "LOAD_DEREF": "cell", "LOAD_GLOBAL": "global", "LOAD_NAME": "global"}


@dataclass(frozen=True)
class Untracked:
    """Shared state written by several threads that exploration does not see."""

    kind: str  # "attribute" or "global"
    owner: str  # the class's qualified name, or the module's name
    name: str  # the attribute or the global
    threads: tuple[str, ...]
    location: str  # file:line of the first write seen
    fix: str  # what to do about it

    def __str__(self) -> str:
        return (f"{self.kind} {self.owner}.{self.name} is written by {', '.join(self.threads)} "
                f"(first at {self.location}) but not tracked: {self.fix}")


def untracked(scenario, executions: int = 20, seed: int = 0, time_limit: float | None = None) -> list[Untracked]:
    """Attributes and globals of a plain program written by more than one thread but not
    tracked, found in up to ``executions`` random runs (``seed`` picks them), within
    ``time_limit`` seconds (None: no limit). Ctrl-C during the runs raises
    ``KeyboardInterrupt``."""
    found, stop_reason = look(scenario, executions, seed, time_limit)
    if stop_reason == "interrupted":
        raise KeyboardInterrupt
    return found


def look(scenario, executions: int, seed: int, time_limit: float | None) -> tuple[list[Untracked], str | None]:
    """:func:`untracked`'s entries, and why its runs stopped (the result's ``stop_reason``:
    ``"time_limit"`` when the time ran out before ``executions`` runs were made)."""
    from ..explore import explore  # the search runs the program; this module sits below it

    plain = getattr(scenario, "plain", None)
    if plain is None:
        raise TypeError(f"untracked() takes a scenario made by explorer.program, got {scenario!r}")
    tracked = tuple(plain.track)
    own = {module.__name__ for module in plain.modules}
    seen: dict[tuple, list] = {}  # (kind, owner, name) -> [threads, first location, class or None]
    stores = _StoreTable()
    primed: set | None = set() if sys.version_info >= (3, 12) else None  # codes the trace was set again for

    def tracer(frame, event, arg):
        code = frame.f_code
        name = code.co_filename
        if name.startswith(_OWN) or name.startswith(_STDLIB) or current() is None:
            return None
        frame.f_trace_opcodes = True
        if primed is not None and code not in primed:
            # From 3.12 the trace runs on sys.monitoring, which sends opcode events to a
            # frame that asks for them only once the trace is set again: for the first
            # frame of each code, or its stores would go unseen on that code's first call
            primed.add(code)
            frame.f_trace = opcode
            sys.settrace(tracer)
        return opcode

    def opcode(frame, event, arg):
        if event != "opcode":
            return opcode
        found = stores.at(frame.f_code, frame.f_lasti)
        if found is None:
            return opcode
        op, target, load = found
        here = current()
        if here is None:
            return opcode
        where = f"{_short(frame.f_code.co_filename)}:{frame.f_lineno}"
        if op == "global":
            module = frame.f_globals.get("__name__", "?")
            if module not in own:  # a library's bookkeeping (a gc callback that ran here), not the program's
                return opcode
            key = ("global", module, target)
            cls = None
        else:
            obj = _loaded(frame, load)
            if obj is _UNKNOWN or isinstance(obj, tracked) or isinstance(obj, type):
                return opcode
            cls = type(obj)
            if cls.__module__ == "builtins":
                return opcode
            key = ("attribute", cls.__qualname__, target)
        entry = seen.setdefault(key, [[], where, cls])
        if here.label not in entry[0]:
            entry[0].append(here.label)
        return opcode

    before = sys.gettrace()
    sys.settrace(tracer)
    try:
        stop_reason = explore(scenario, strategy="random", max_executions=executions, seed=seed,
                              time_limit=time_limit).stop_reason
    finally:
        sys.settrace(before)
    found = []
    for (kind, owner, name), (threads, where, cls) in seen.items():
        if len(threads) < 2:
            continue
        if kind == "global":
            fix = f"move {name} into an object of a tracked class; globals are not steps"
        else:
            fix = f"add track=[{cls.__name__}]" if cls is not None else "track its class"
        found.append(Untracked(kind, owner, name, tuple(threads), where, fix))
    return sorted(found, key=lambda entry: (entry.kind, entry.owner, entry.name)), stop_reason


_UNKNOWN = object()


class _StoreTable:
    """For each code object, the offsets of its stores: ``(op, name, how the target was loaded)``."""

    def __init__(self) -> None:
        self.tables: dict = {}

    def at(self, code, offset: int):
        table = self.tables.get(code)
        if table is None:
            table = self.tables[code] = _stores(code)
        return table.get(offset)


def _stores(code) -> dict:
    table = {}
    previous = None
    for instruction in dis.get_instructions(code):
        op = instruction.opname
        if op in ("STORE_ATTR", "DELETE_ATTR"):
            load = None
            if previous is not None and previous.opname in _LOADS:
                target = previous.argval
                load = (_LOADS[previous.opname], target[-1] if isinstance(target, tuple) else target)
            table[instruction.offset] = ("attribute", instruction.argval, load)
        elif op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            table[instruction.offset] = ("global", instruction.argval, None)
        if op not in ("CACHE", "EXTENDED_ARG"):
            previous = instruction
    return table


def _loaded(frame, load):
    """The object a store writes to, from the instruction that loaded it just before."""
    if load is None:
        return _UNKNOWN
    how, name = load
    if how == "local" or how == "cell":
        return frame.f_locals.get(name, _UNKNOWN)
    return frame.f_globals.get(name, frame.f_builtins.get(name, _UNKNOWN))


def _short(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
