"""A suspended generator's state, read by value from its frame, or None where it cannot be.

Stateful search (:mod:`.state_keys`) merges two states only when every thread's future
is the same in both. A thread's future is fixed by what its generator holds at its
``yield``: the code position, every local variable (a closure's cells too), and the
frame's value stack there (a ``for`` loop's iterator, an expression's partial value, a
``with`` block's ``__exit__``), and the same for each generator below it through
``yield from``. When all of that is made of values compared by value, two generators
with equal keys run alike from there on, whatever paths brought them there; so
threads that took different steps to reach the same locals are one state, as in SPIN.

Python shows a frame's locals (``f_locals``) but not its value stack.
``gc.get_referents`` does: for a generator it lists the objects its frame holds,
header first (name, frame, function and code), then every bound local slot in slot
order, then the value stack, bottom first, and last the exception the generator is
handling, if any (CPython 3.11 to 3.13). The slots are found by identity against
``f_locals``: when any of them does not line up, the layout is not what this module
expects and the key is None.

That last entry is None, not absent, in a generator inside which some code once
handled an exception (3.11 and 3.12 put back None where there was nothing): a
function it called that caught a ``KeyError`` on a cache miss, say, which
:func:`explorer.read` does the first time a process reads a variable. It changes
nothing the generator does, and whether it is there depends on what ran before in the
process, so trailing Nones are left out of the key. That loses nothing: the stack's
depth at a given instruction is fixed, so the stack is its entries up to the last
that is not None, padded with Nones to that depth.

What the code reads through its module's namespace (a global another thread rebinds, a
class attribute it sets) is in the key too: :func:`_outside`, from :mod:`.code_globals`.

The key is None (the caller keeps the thread's history instead, which is always
sound) whenever one value cannot be shown to be a value:

* a mutable or identity-compared object: a list, dict or set, an instance, a bound
  method (a ``with`` block's ``__exit__``), a generator other than the one delegated to
  by ``yield from``, a class or a function defined inside a function;
* an iterator that cannot say where it is, or walks over something mutable (a list's);
* a frame laid out otherwise than expected (another Python).

Values are compared with their type (``1``, ``1.0`` and ``True`` stay apart, and so do
``0.0`` and ``-0.0``, which print and divide differently), a frozenset with the layout
of its hash table (equal sets may iterate in other orders); a value unequal to itself
(``nan``) makes its state unique, which costs merging, never soundness. Functions, and
module-level classes, count as values: a function by its code, defaults and closure, a
class as itself. A closure's cells count by their contents and by which of them are one
cell: two functions that share a cell (``get`` and ``put`` made by one call) are
another state than two with a cell each holding the same. A function with attributes of
its own, an instance of a tuple subclass with attributes set on it, and a function
whose closure holds itself (a recursive helper) are opaque.
"""

from __future__ import annotations

import builtins
import ctypes
import dataclasses
import dis
import functools
import gc
import math
import sys
import types
from collections.abc import Hashable

from .code_globals import code_globals

#: A token standing for a cell that holds nothing yet.
_EMPTY = ("empty cell",)


class Opaque(Exception):  # noqa: N818 - a signal, not an error
    """A value that cannot be compared by value: its thread keeps its history."""


def frame_key(gen: types.GeneratorType) -> tuple[Hashable, list] | None:
    """``(key, cells)`` for a suspended generator, or None when it cannot be read by value.
    ``cells`` lists ``(cell, contents)`` for each closure cell the key holds (its frames',
    and their functions'), and ``(MOVING, [iterator, token])`` for each iterator, in the order the
    key met them: another function may change what a cell holds, so the key stands only
    while each still holds the same object (:func:`unchanged`); and which of them another
    thread's key holds too is part of the state (``state_keys``)."""
    cells: list = []
    _NUMBERED.append(({}, cells))
    _EXPANDED.append(set())
    try:
        return _frame(gen, cells), cells
    except (Opaque, RecursionError):
        return None
    finally:
        _NUMBERED.pop()
        _EXPANDED.pop()


def unchanged(cells: list) -> bool:
    """Whether every cell still holds what it held when the key was read, and every
    iterator (:data:`MOVING`) still stands where it stood."""
    for cell, contents in cells:
        if cell is OUTSIDE:
            if not _still(contents):
                return False
            continue
        if cell is MOVING:
            iterator, made = contents
            try:
                if made is None or token(iterator) != made:
                    return False
            except (Opaque, RecursionError):
                return False
            continue
        try:
            if cell.cell_contents is not contents:
                return False
        except ValueError:
            if contents is not _EMPTY:
                return False
    return True


def _frame(gen: types.GeneratorType, cells: list) -> Hashable:
    frame = gen.gi_frame
    if frame is None or gen.gi_running:
        raise Opaque
    code = frame.f_code
    known = _LAYOUTS.get(code)
    if known is None:
        known = _LAYOUTS[code] = (_layout(code), _liveness(code))
    layout, liveness = known
    live = -1 if liveness is None else liveness.get(frame.f_lasti, -1)
    refs = gc.get_referents(gen)
    start = _header_end(refs, code)
    bound = frame.f_locals
    slots = []
    position = start
    n = len(refs)
    for slot, (name, is_cell) in enumerate(layout):
        if is_cell:
            cell = refs[position] if position < n else None
            if cell.__class__ is not types.CellType:
                raise Opaque
            slots.append(_cell(cell))  # numbered: a closure in a local may share it
            position += 1
        elif name in bound:
            value = bound[name]
            if position >= n or refs[position] is not value:
                raise Opaque  # the slots are not laid out as expected
            # a dead local (written before it is read again, on every path) cannot matter
            slots.append(token(value) if live >> slot & 1 else _DEAD)
            position += 1
        else:
            slots.append(_EMPTY)
    inner = gen.gi_yieldfrom
    stack = []
    while n > position and refs[n - 1] is None:  # the exception state, or stack slots: see above
        n -= 1
    for item in refs[position:n]:
        if item is inner and item.__class__ is types.GeneratorType:
            stack.append(("yield from", _frame(item, cells)))
        else:
            stack.append(token(item))
    return (code, frame.f_lasti, tuple(slots), tuple(stack), _outside(code, frame.f_globals, own=True))


def _header_end(refs: list, code: types.CodeType) -> int:
    """Where the slots start: just after the frame's function and code."""
    for i in range(min(len(refs) - 1, 8)):
        item = refs[i]
        if item.__class__ is types.FunctionType and item.__code__ is code and refs[i + 1] is code:
            return i + 2
    raise Opaque


def _layout(code: types.CodeType) -> tuple[tuple[str, bool], ...]:
    """Each local slot of ``code`` in CPython's order: ``(name, holds a cell)``."""
    cells = set(code.co_cellvars) | set(code.co_freevars)
    names = list(code.co_varnames)
    names += [name for name in code.co_cellvars if name not in code.co_varnames]
    names += list(code.co_freevars)
    return tuple((name, name in cells) for name in names)


_LAYOUTS: dict = {}
#: A token standing for a local slot whose value is never read again.
_DEAD = ("dead",)

_UNCONDITIONAL = frozenset({"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP",
                            "JUMP_NO_INTERRUPT"})
_TERMINAL = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"})
_JUMPS = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec", "dir"})


def _liveness(code: types.CodeType) -> dict[int, int] | None:
    """For each instruction's offset, the plain local slots that may be read before they
    are written again, from there on (a bitmask by slot): the classic backward dataflow
    over the code's jumps and exception table, as SPIN's dead variable elimination.
    None (every local live) for code it cannot be sure of: names looked up by string,
    ``locals()`` and friends, an instruction on locals it does not know."""
    slots = {name: i for i, (name, is_cell) in enumerate(_layout(code)) if not is_cell}
    instructions = list(dis.get_instructions(code))
    index = {ins.offset: n for n, ins in enumerate(instructions)}
    uses = [0] * len(instructions)
    defs = [0] * len(instructions)
    successors: list[list[int]] = [[] for _ in instructions]
    for n, ins in enumerate(instructions):
        name = ins.opname
        if name in ("LOAD_NAME", "STORE_NAME", "DELETE_NAME") or (
                name in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval in _INTROSPECTION):
            return None
        if "FAST" in name:
            if name in ("LOAD_FAST", "LOAD_FAST_CHECK"):
                uses[n] = _bit(slots, ins.argval)
            elif name == "STORE_FAST":
                defs[n] = _bit(slots, ins.argval)
            elif name in ("DELETE_FAST", "LOAD_FAST_AND_CLEAR"):
                uses[n] = defs[n] = _bit(slots, ins.argval)
            elif name == "LOAD_FAST_LOAD_FAST":
                uses[n] = _bit(slots, ins.argval[0]) | _bit(slots, ins.argval[1])
            elif name == "STORE_FAST_STORE_FAST":
                defs[n] = _bit(slots, ins.argval[0]) | _bit(slots, ins.argval[1])
            elif name == "STORE_FAST_LOAD_FAST":
                stored, loaded = ins.argval
                defs[n] = _bit(slots, stored)
                uses[n] = 0 if loaded == stored else _bit(slots, loaded)
            else:
                return None
        if name not in _UNCONDITIONAL and name not in _TERMINAL and n + 1 < len(instructions):
            successors[n].append(n + 1)
        if ins.opcode in _JUMPS and ins.argval in index:
            successors[n].append(index[ins.argval])
    for entry in dis.Bytecode(code).exception_entries:
        target = index.get(entry.target)
        if target is None:
            return None
        for n, ins in enumerate(instructions):
            if entry.start <= ins.offset < entry.end:
                successors[n].append(target)
    live = [0] * len(instructions)
    changed = True
    while changed:
        changed = False
        for n in range(len(instructions) - 1, -1, -1):
            out = 0
            for m in successors[n]:
                out |= live[m]
            new = uses[n] | (out & ~defs[n])
            if new != live[n]:
                live[n] = new
                changed = True
    return {ins.offset: live[n] for n, ins in enumerate(instructions)}


def _bit(slots: dict, name: object) -> int:
    slot = slots.get(name)
    return 0 if slot is None else 1 << slot

_TYPED = frozenset({bool, float, complex, bytes, type(None), type(Ellipsis), type(NotImplemented)})
_ITERATORS = frozenset(type(it) for it in (
    iter(range(1)), iter(range(1 << 80)), iter(()), enumerate(()), zip(), reversed(()), iter(""),
    reversed(range(1)),
))


def token(value: object) -> Hashable:
    """``value`` as a hashable token equal for two values exactly when they behave alike
    from here on; raises :class:`Opaque` when that cannot be shown."""
    cls = value.__class__
    if cls is int or cls is str:
        return value
    if cls is float:
        return (float, value, math.copysign(1.0, value))  # 0.0 and -0.0 are equal, and print apart
    if cls is complex:
        return (complex, value, math.copysign(1.0, value.real), math.copysign(1.0, value.imag))
    if cls in _TYPED:
        return (cls, value)
    if cls is tuple:
        return (tuple,) + tuple(token(item) for item in value)
    if cls is frozenset:
        # equal frozensets may iterate in other orders ({8} | {16} and {16} | {8}), and sets
        # made from them later too: the table's layout is part of the token
        return (frozenset, _set_layout(value), tuple(token(item) for item in value))
    if cls is range:
        return (range, value.start, value.stop, value.step)
    if cls is types.FunctionType:
        if value.__dict__ or id(value) in _MAKING:  # attributes set on it; a helper that calls itself
            raise Opaque
        _MAKING.add(id(value))
        try:
            return (types.FunctionType, value.__code__, token(value.__defaults__),
                    None if value.__kwdefaults__ is None else token(tuple(sorted(value.__kwdefaults__.items()))),
                    None if value.__closure__ is None else tuple(_cell(cell) for cell in value.__closure__),
                    # within a frame's key, what it reaches through its module's namespace too
                    _outside(value.__code__, value.__globals__, own=False) if _NUMBERED else None)
        finally:
            _MAKING.discard(id(value))
    if cls is types.BuiltinFunctionType:
        owner = value.__self__
        if owner is None or owner.__class__ is types.ModuleType:
            return (types.BuiltinFunctionType, getattr(owner, "__name__", None), value.__qualname__)
        if owner.__class__ is type:  # a class's own, as tuple.__new__ (a named tuple's)
            return (types.BuiltinFunctionType, token(owner), value.__qualname__)
        raise Opaque
    if cls is functools.partial:
        return (functools.partial, token(value.func), token(value.args),
                token(tuple(sorted(value.keywords.items()))))
    if cls in _ITERATORS:
        # Within a key, numbered as cells are: two locals holding one iterator are another
        # state than two holding equal ones. Listed with the cells, marked MOVING: another
        # thread holding it may move it on, so a cached key stands only while it stands here.
        moving = [value, None]  # and its token, once made: unchanged() compares where it stands
        number = _met(value, (MOVING, moving))
        if number is not None:
            return ("iterator", number)
        reduced = value.__reduce__()
        moving[1] = made = (cls,) + tuple(token(part) for part in reduced[1:])
        return made
    if cls is type:
        if "<locals>" in value.__qualname__:
            raise Opaque
        # within a frame's key, with its class attributes: another thread may set one
        return _class_attributes(value) if _NUMBERED and not _trusted(value.__module__) else value
    if issubclass(cls, tuple) and "<locals>" not in cls.__qualname__ and cls.__hash__ is tuple.__hash__ \
            and cls.__eq__ is tuple.__eq__ and not getattr(value, "__dict__", None):  # no attributes set
        return (cls,) + tuple(token(item) for item in value)  # a step, a named tuple
    raise Opaque


def _outside(code: types.CodeType, namespace: dict, *, own: bool) -> tuple:
    """What ``code`` (a frame's, or a function's a key holds) reaches through its module's
    namespace (:mod:`.code_globals`): each global name it uses with its value's token (a
    module by the attributes used of it), listed with the cells as ``(OUTSIDE, (namespace,
    name, value))``, since another thread may rebind the name between this thread's steps.
    A list or an instance a global names makes the key None (:class:`Opaque`): every thread
    may change it. Code that may change a namespace or an attribute, or, other than a
    frame's ``own``, a closure's cell, is listed as ``(OUTSIDE, CHANGES)`` (the graph walk
    cannot follow it). Met again within one key: ``("again",)``, its values being those."""
    if _trusted(namespace.get("__name__")):  # explorer's own code (a pool's worker), the library's
        return ()
    used = code_globals(code)
    cells = _NUMBERED[-1][1]
    if (used.changes or (used.closures and not own)) and (OUTSIDE, CHANGES) not in cells:
        cells.append((OUTSIDE, CHANGES))
    if not used.names:
        return ()
    expanded = _EXPANDED[-1]
    if (code, id(namespace)) in expanded:
        return ("again",)
    expanded.add((code, id(namespace)))
    parts = []
    for name in used.names:
        value = namespace.get(name, _ABSENT)
        cells.append((OUTSIDE, (namespace, name, value)))
        if value is _ABSENT:  # a builtin (its module does not bind the name), or not bound yet:
            # what the builtins bind, which a thread may change too (builtins.flag = 1)
            builtin = _builtins(namespace)
            value = builtin.get(name, _ABSENT)
            cells.append((OUTSIDE, (builtin, name, value)))
            parts.append((name, _ABSENT, _ABSENT if value is _ABSENT else _reached(value)))
        elif value.__class__ is types.ModuleType:
            if name in used.bare and not _trusted(value.__name__):
                raise Opaque  # a module passed on: any of its attributes may be read
            attributes = vars(value)
            held = []
            for attribute in used.attributes.get(name, ()):
                item = attributes.get(attribute, _ABSENT)
                cells.append((OUTSIDE, (attributes, attribute, item)))
                held.append((attribute, _ABSENT if item is _ABSENT else _reached(item)))
            parts.append((name, value.__name__, tuple(held)))
        else:
            parts.append((name, _reached(value)))
    return tuple(parts)


def _reached(value: object) -> Hashable:
    """The token of a value reached through a namespace: a function or class of explorer's
    or the standard library's as itself (what they hold is no thread's), any other as
    :func:`token` holds it (a function with what it reaches, a class with its attributes)."""
    cls = value.__class__
    if cls is types.ModuleType:
        if _trusted(value.__name__):
            return (types.ModuleType, value.__name__)
        raise Opaque  # a module of the program's own, read through another: anything in it
    if cls is type and _trusted(value.__module__):
        return value
    if cls is types.FunctionType and _trusted(value.__module__) and "<locals>" not in value.__qualname__:
        return (types.FunctionType, value.__module__, value.__qualname__)  # named alike in every process
    return token(value)


def _class_attributes(klass: type) -> Hashable:
    """A class with its attributes, as a key holds it (another thread may set one, as
    ``Config.mode = ...``): each of its and its bases' data attributes by token, and its
    methods (:func:`_method`) with what they hold and reach. A descriptor of a class of
    the program's own (or any but functions, properties, static and class methods and the
    C ones of slots) is held as any value is: an instance, opaque, since what its
    ``__get__`` gives may be what another thread set in it.
    Listed with the cells as ``(OUTSIDE, (class, None, its attributes then))``."""
    cells = _NUMBERED[-1][1]
    expanded = _EXPANDED[-1]
    if klass in expanded:
        return ("again", klass)
    expanded.add(klass)
    parts: list = [klass]
    for base in klass.__mro__:
        if base is object or _trusted(base.__module__):
            continue
        attributes = vars(base)
        cells.append((OUTSIDE, (base, None, tuple(attributes.values()))))
        generated = _NAMED_TUPLE if issubclass(base, tuple) and "_fields" in attributes else ()
        dataclass = "__dataclass_fields__" in attributes
        for name, item in attributes.items():
            if name in generated or name.startswith("_abc_"):
                continue
            kind = item.__class__
            if kind is staticmethod or kind is classmethod:
                item, kind = item.__func__, item.__func__.__class__
            if kind is types.FunctionType:
                parts.append((name, _method(item, dataclass)))
            elif kind is property:
                parts.append((name, tuple(_method(f, dataclass) for f in (item.fget, item.fset, item.fdel))))
            elif name[:2] == "__" == name[-2:] or kind in _C_DESCRIPTORS:
                continue  # a name, a docstring, a slot's or a C descriptor: nothing a thread sets
            else:
                parts.append((name, _reached(item)))
    return tuple(parts)


def _method(function: object, dataclass: bool) -> Hashable:
    """A class's function (a method, a static method's, a property's getter) as its class's
    key holds it: as :func:`token` holds a function, with its defaults and cells (a mutable
    default another thread appends to, a closure's variable a function made with it
    rebinds, make the key None or hold their values), but one the dataclass decorator
    wrote by what it reaches through its module only: its cells and defaults hold the
    decorator's sentinels, fixed for the life of the class, and the fields' defaults, which
    are the class's attributes too."""
    if function is None:
        return None
    if function.__class__ is not types.FunctionType:
        return _reached(function)  # a builtin, a partial...: as a value reached
    if dataclass and function.__code__.co_filename.startswith("<"):
        return _outside(function.__code__, function.__globals__, own=False)
    return token(function)


#: The descriptors CPython makes for slots, ``__dict__`` and C methods: they hold no state.
_C_DESCRIPTORS = frozenset({types.MemberDescriptorType, types.GetSetDescriptorType, types.MethodDescriptorType,
                            types.WrapperDescriptorType, types.ClassMethodDescriptorType})


def _builtins(namespace: dict) -> dict:
    """The builtins a module's code looks a name up in when its module does not bind it."""
    found = namespace.get("__builtins__", builtins)
    return vars(found) if found.__class__ is types.ModuleType else found


def _still(listed: object) -> bool:
    """Whether a namespace entry a key listed (:func:`_outside`) holds what it held then."""
    if listed is CHANGES:
        return True
    namespace, name, value = listed
    if name is None:  # a class's attributes
        now = tuple(vars(namespace).values())
        return len(now) == len(value) and all(a is b for a, b in zip(now, value))
    return namespace.get(name, _ABSENT) is value


def _trusted(module: object) -> bool:
    """Whether a module's name (or a function's or class's ``__module__``) is explorer's or
    the standard library's: what its functions and classes hold is no thread's state."""
    if module.__class__ is not str:
        return False
    top = module.partition(".")[0]
    return top == "explorer" or top in sys.stdlib_module_names


#: The attributes ``collections.namedtuple`` gives a class: fixed, whatever a thread does.
_NAMED_TUPLE = frozenset({"_fields", "_field_defaults", "_make", "_replace", "_asdict", "__getnewargs__",
                          "__match_args__", "__new__", "__repr__", "__slots__", "__doc__", "__module__"})


class _SetEntry(ctypes.Structure):
    _fields_ = [("key", ctypes.c_void_p), ("hash", ctypes.c_ssize_t)]


class _SetHead(ctypes.Structure):
    """The start of CPython's ``PySetObject`` (3.11 to 3.13): what its table looks like."""

    _fields_ = [("refcnt", ctypes.c_ssize_t), ("type", ctypes.c_void_p), ("fill", ctypes.c_ssize_t),
                ("used", ctypes.c_ssize_t), ("mask", ctypes.c_ssize_t), ("table", ctypes.POINTER(_SetEntry))]


def _set_layout(value: frozenset) -> tuple:
    """Where a frozenset's members and deleted slots lie in its hash table: ``(mask, slots)``,
    a slot being ``(position, number of the member in iteration order)``, or
    ``(position, None)`` for a deleted one. Two equal frozensets laid out alike iterate
    alike, and so do the sets made from them (a union copies the table as it is, then
    probes from there). Raises :class:`Opaque` where the object is not laid out as
    :class:`_SetHead` says (another Python: checked once, on import)."""
    if not _SETS_READABLE:
        raise Opaque
    return _read_layout(value)


def _read_layout(value: frozenset) -> tuple:
    head = _SetHead.from_address(id(value))
    if head.type != id(frozenset) or head.used != len(value) or head.mask & (head.mask + 1) \
            or head.fill < head.used or head.mask < head.fill:
        raise Opaque
    numbers = {id(member): number for number, member in enumerate(value)}
    table = head.table
    slots = []
    expected = 0
    for position in range(head.mask + 1):
        key = table[position].key
        if key:
            number = numbers.get(key)
            if number is not None:
                if number != expected:  # iteration is in slot order
                    raise Opaque
                expected += 1
            slots.append((position, number))
    if expected != head.used or len(slots) != head.fill:
        raise Opaque
    return (head.mask, tuple(slots))


def _sets_readable() -> bool:
    """Whether :func:`_set_layout` reads this Python's frozensets: 8 and 16 share a slot
    of an 8-slot table, so the one added second lies one further."""
    try:
        first, second = frozenset({8}) | frozenset({16}), frozenset({16}) | frozenset({8})
        return (_read_layout(first) == (7, ((0, 0), (1, 1))) == _read_layout(second)
                and tuple(first) == (8, 16) and tuple(second) == (16, 8) and _read_layout(frozenset()) == (7, ()))
    except Exception:  # noqa: BLE001 - any surprise: frozensets are opaque here
        return False


_SETS_READABLE = _sets_readable()


def value_token(value: object) -> Hashable:
    """:func:`token`, and also a frozen dataclass whose every field compares (by its
    fields' tokens): how a state key holds a variable's value or a value sent into a
    thread. Raises :class:`Opaque` for anything else: an object whose ``==`` may call
    two objects equal that a thread tells apart (a field left out of the comparison, an
    ``__eq__`` of its own), which a key must then hold as a value like no other."""
    cls = value.__class__
    if cls is int or cls is str:
        return value
    try:
        return token(value)
    except Opaque:
        pass
    except RecursionError:
        raise Opaque from None
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or not params.eq or "<locals>" in cls.__qualname__ \
            or cls.__eq__ is not _dataclass_eq(cls):
        raise Opaque
    fields = dataclasses.fields(cls)
    names = {field.name for field in fields}
    if not all(field.compare for field in fields) or (
            hasattr(value, "__dict__") and vars(value).keys() - names) or _other_slots(cls, names):
        raise Opaque
    return (cls,) + tuple(value_token(getattr(value, field.name)) for field in fields)


def _other_slots(cls: type, names: set) -> bool:
    """Whether ``cls`` has slots besides the fields ``names``: what they hold is left out of
    the comparison, as an attribute in ``__dict__`` would be."""
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        if any(slot not in names and slot not in ("__dict__", "__weakref__") for slot in slots):
            return True
    return False


def _dataclass_eq(cls: type):
    """The ``__eq__`` the dataclass decorator wrote for ``cls`` (None if it has another):
    the decorator compiles it from text, so its code comes from no file."""
    eq = cls.__dict__.get("__eq__")
    code = getattr(eq, "__code__", None)
    return eq if code is not None and code.co_filename.startswith("<") else None


def _cell(cell: types.CellType) -> Hashable:
    """A cell's token: its contents'; within a key (:func:`frame_key`), its number once
    met before, and every cell met listed with what it holds (:func:`unchanged`)."""
    try:
        contents = cell.cell_contents
    except ValueError:
        contents = _EMPTY
    number = _met(cell, (cell, contents))
    if number is not None:
        return ("cell", number)
    return _EMPTY if contents is _EMPTY else token(contents)


def _met(shared: object, listed: tuple) -> int | None:
    """Within a key (:func:`frame_key`), the number of ``shared`` (a cell, an iterator) if
    the key met it before; else None, and it is numbered and ``listed`` with the cells."""
    if not _NUMBERED:
        return None
    numbered, cells = _NUMBERED[-1]
    number = numbered.get(id(shared))
    if number is not None:
        return number
    numbered[id(shared)] = len(numbered)
    cells.append(listed)
    return None


#: Per key being made (frame_key, a stack): the cells met so far, by id, and the list of them.
_NUMBERED: list[tuple[dict, list]] = []
#: Listed among a key's cells, as ``(MOVING, [the iterator, its token])``, when the key
#: holds an iterator's position: an object another thread may hold too (a closure's, a
#: spawn's argument) and move on between this thread's steps, which a key read once would
#: not see (:func:`unchanged` compares where it stands now).
MOVING = object()
#: The functions whose token is being made: one met again inside its own closure is recursive.
_MAKING: set[int] = set()
#: Per key being made (frame_key, a stack): the code (with its namespace's id) and classes
#: whose reach through a namespace the key holds already.
_EXPANDED: list[set] = []
#: Listed among a key's cells, as ``(OUTSIDE, (namespace, name, value))``, for each name the
#: key read from a module's namespace (or ``(OUTSIDE, (class, None, attributes))``): another
#: thread may rebind it between this thread's steps (:func:`unchanged` compares it).
OUTSIDE = object()
#: Listed as ``(OUTSIDE, CHANGES)`` when the code a key reaches may change a namespace, an
#: attribute or a closure's cell other threads read (:mod:`.code_globals`).
CHANGES = object()
#: A name its namespace does not bind.
_ABSENT = ("absent",)
