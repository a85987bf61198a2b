"""Fingerprints of state parts that every process computes alike.

A serial stateful search numbers the parts of its keys in the order it meets them
(collapse compression) and hashes the numbers: exact, but the numbers are that
process's own. The workers of a parallel search share one table of visited states
(:mod:`.shared_visited`), so each part must be named by something every process
computes the same: a 64-bit BLAKE2b digest of a canonical encoding of the part.

The encoding is faithful: two parts with the same encoding are equal (with their
types, as the keys compare them), so equal digests mean equal parts up to a 64-bit
collision, as with SPIN's hash compaction. It is not complete: some equal values
encode differently (``0.0`` and ``-0.0``), which only costs a state visited twice.
A value it cannot encode so (an instance, a ``nan``, a class made inside a function)
raises :class:`Unstable`: that state stays in the worker's own set of visited states,
which is always sound. Nothing here depends on ``hash()``: strings hash differently
in every process, and objects by their address.
"""

from __future__ import annotations

import math
import types
from hashlib import blake2b


class Unstable(Exception):  # noqa: N818 - a signal, not an error
    """A value that has no encoding every process shares: keep its state to this process."""


def digest(value: object) -> int:
    """``value``'s 64-bit fingerprint, the same in every process; raises :class:`Unstable`."""
    out: list[bytes] = []
    _encode(value, out)
    return int.from_bytes(blake2b(b"".join(out), digest_size=8).digest(), "little")


def _text(text: str, out: list) -> None:
    data = text.encode("utf-8", "surrogatepass")
    out.append(len(data).to_bytes(4, "little"))
    out.append(data)


def _encode(value: object, out: list) -> None:
    cls = value.__class__
    if cls is int:
        out.append(b"i")
        _text(str(value), out)
    elif cls is str:
        out.append(b"s")
        _text(value, out)
    elif cls is tuple:
        out.append(b"(")
        out.append(len(value).to_bytes(4, "little"))
        for item in value:
            _encode(item, out)
    elif cls is frozenset:
        items = []
        for item in value:
            encoded: list[bytes] = []
            _encode(item, encoded)
            items.append(b"".join(encoded))
        items.sort()
        out.append(b"{")
        out.append(len(items).to_bytes(4, "little"))
        for item in items:
            out.append(len(item).to_bytes(4, "little"))
            out.append(item)
    elif value is None:
        out.append(b"N")
    elif cls is bool:
        out.append(b"T" if value else b"F")
    elif cls is float:
        if math.isnan(value):
            raise Unstable  # unequal to itself: a serial search never merges its state either
        out.append(b"f")
        out.append(value.hex().encode())
    elif cls is bytes:
        out.append(b"b")
        out.append(len(value).to_bytes(4, "little"))
        out.append(value)
    elif cls is type:
        _class(value, out)
    elif cls is types.CodeType:
        _code(value, out)
    elif issubclass(cls, tuple) and cls.__eq__ is tuple.__eq__:  # a step, a named tuple
        out.append(b"t")
        _class(cls, out)
        _encode(tuple(value), out)
    else:
        raise Unstable


def _class(cls: type, out: list) -> None:
    """A module-level class by its module and name: the same class in every process that
    imported its module (a class made inside a function has no such name)."""
    qualname = getattr(cls, "__qualname__", "")
    if "<locals>" in qualname:
        raise Unstable
    out.append(b"c")
    _text(getattr(cls, "__module__", "") or "", out)
    _text(qualname, out)


def _code(code: types.CodeType, out: list) -> None:
    """A code object by what makes two equal (its bytecode, constants, names, positions)."""
    out.append(b"C")
    for text in (code.co_filename, code.co_qualname):
        _text(text, out)
    for number in (code.co_firstlineno, code.co_flags, code.co_argcount, code.co_posonlyargcount,
                   code.co_kwonlyargcount, code.co_stacksize):
        out.append(number.to_bytes(8, "little", signed=True))
    for data in (code.co_code, code.co_linetable, code.co_exceptiontable):
        out.append(len(data).to_bytes(4, "little"))
        out.append(data)
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        _encode(names, out)
    out.append(len(code.co_consts).to_bytes(4, "little"))
    for const in code.co_consts:
        _encode(const, out)
