"""What of its module's namespace a piece of code can reach: read from its bytecode.

A thread's future depends on its frames (:mod:`.frames`) and on what its code reads
outside them: a module global another thread rebinds (``global total; total += 1``
under a lock), a list a global names and every thread appends to, a class attribute
(``Config.mode = ...``). None of it is in a frame, so two states that differ only there
would be one. The key holds it too: the current value of each global name the code (and
code nested in it: a lambda, a comprehension, an inner function) loads or stores, and,
for a name bound to a module, each of the module's attributes it uses (``queue.Full``).

:func:`code_globals` reads that from the bytecode once per code object. It also says
whether the code changes what other threads may read outside their frames (stores a
global or an attribute, or calls a builtin that does, such as ``setattr``): the graph
walk, which learns each thread's steps on its own, cannot follow such a program.
"""

from __future__ import annotations

import dis
import types

#: Builtins that change a namespace or an object's attributes, or read one by name.
_CHANGERS = frozenset({"setattr", "delattr", "globals", "vars", "exec", "eval", "__import__", "locals"})
_GLOBAL_USES = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME"})
_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME", "STORE_ATTR", "DELETE_ATTR"})
_ATTRIBUTE_USES = frozenset({"LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"})
_BY_NAME = frozenset({"__setattr__", "__delattr__", "__dict__"})


class CodeGlobals:
    """What a code object and the code nested in it use of their module's namespace.

    ``names``: every global name loaded or stored, sorted; ``attributes``: name -> the
    attributes used right after loading it (``queue.Full``), sorted; ``bare``: the names
    also used otherwise (passed on, called); ``changes``: whether the code may change a
    namespace or an attribute; ``closures``: whether it rebinds a closure's cell."""

    __slots__ = ("attributes", "bare", "changes", "closures", "names")

    def __init__(self) -> None:
        self.names: tuple[str, ...] = ()
        self.attributes: dict[str, tuple[str, ...]] = {}
        self.bare: frozenset[str] = frozenset()
        self.changes = False
        self.closures = False


def code_globals(code: types.CodeType) -> CodeGlobals:
    """:class:`CodeGlobals` for ``code``, worked out once."""
    known = _KNOWN.get(code)
    if known is None:
        known = _KNOWN[code] = _scan(code)
    return known


def _scan(code: types.CodeType) -> CodeGlobals:
    names: set[str] = set()
    attributes: dict[str, set[str]] = {}
    bare: set[str] = set()
    made = CodeGlobals()
    for inner in _codes(code):
        instructions = list(dis.get_instructions(inner))
        for n, ins in enumerate(instructions):
            name = ins.opname
            if name in _STORES:
                made.changes = True
            elif name in ("STORE_DEREF", "DELETE_DEREF"):
                made.closures = True
            if name in _ATTRIBUTE_USES and ins.argval in _BY_NAME:
                made.changes = True
            if name not in _GLOBAL_USES:
                continue
            global_name = ins.argval
            names.add(global_name)
            if global_name in _CHANGERS:
                made.changes = True
            following = instructions[n + 1] if n + 1 < len(instructions) else None
            if name in ("LOAD_GLOBAL", "LOAD_NAME") and following is not None \
                    and following.opname in _ATTRIBUTE_USES:
                attributes.setdefault(global_name, set()).add(following.argval)
            else:
                bare.add(global_name)
    made.names = tuple(sorted(names))
    made.attributes = {name: tuple(sorted(used)) for name, used in attributes.items()}
    made.bare = frozenset(bare)
    return made


def _codes(code: types.CodeType):
    """``code`` and every code object nested in its constants, at any depth."""
    yield code
    for const in code.co_consts:
        if const.__class__ is types.CodeType:
            yield from _codes(const)


_KNOWN: dict = {}
