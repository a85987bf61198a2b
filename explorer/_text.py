"""Showing user values in messages without ever failing.

>>> shown(10 ** 5000)
'<int of about 5001 digits>'
>>> shown("x")
"'x'"
"""

from __future__ import annotations

import re

import sys


#: Characters of a value's repr shown in a message, a trace or a render; the rest is cut.
SHOWN_LIMIT = 200


def shown(value: object, limit: int | None = SHOWN_LIMIT) -> str:
    """``repr(value)``, or a short stand-in when that fails: an int past Python's digit
    limit for ``str`` (``sys.get_int_max_str_digits``), or a ``__repr__`` that raises.
    A repr longer than ``limit`` characters is cut, saying how long it was (None: never).

    >>> shown("a" * 1000, limit=40)
    "'aaaaaaaaaaaaaaaaaa...<1,002 characters>"
    """
    try:
        if value.__class__ is tuple and (PLAIN.issuperset(map(type, value)) or _all_plain(value, 0)):
            text = repr(value)  # already stable, and made in C: a search sorts thousands of keys by it
            if " at 0x" in text:
                text = _stable_repr(value, 0)
        else:
            text = _stable_repr(value, 0)
    except ValueError:
        if isinstance(value, int):
            return f"<int of about {int(abs(value).bit_length() * 0.30103) + 1} digits>"
        return f"<{type(value).__name__} whose repr failed>"
    except Exception:  # noqa: BLE001 - a user's __repr__ may raise anything
        return f"<{type(value).__name__} whose repr failed>"
    if limit is None or len(text) <= limit:
        return text
    tail = f"...<{len(text):,} characters>"
    return text[:max(limit - len(tail), 1)] + tail


def _all_plain(items: tuple, depth: int) -> bool:
    """Whether a tuple holds only plain values and such tuples (to a depth of 20): its
    repr is then stable as it is."""
    for item in items:
        if item.__class__ not in PLAIN and not (item.__class__ is tuple and depth < 20 and _all_plain(item, depth + 1)):
            return False
    return True


def _stable_repr(value: object, depth: int) -> str:
    """``repr(value)``, but with the members of sets and frozensets (also inside tuples,
    lists and dicts) in sorted order: their own order follows string hashing, which
    ``PYTHONHASHSEED`` changes between processes, and a report must not; and without
    the address a default repr shows (``<function f at 0x7f...>`` is ``<function f>``).

    >>> _stable_repr((frozenset({"b", "a"}), {2, 1}, [set()]), 0)
    "(frozenset({'a', 'b'}), {1, 2}, [set()])"
    """
    kind = type(value)
    if depth > 20 or kind not in _CONTAINERS:
        text = repr(value)
        # a default repr's address (a function's, an object's) differs between runs and processes
        return _ADDRESS.sub("", text) if " at 0x" in text else text
    depth += 1
    if kind is tuple:
        inner = ", ".join(_stable_repr(item, depth) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is list:
        return "[" + ", ".join(_stable_repr(item, depth) for item in value) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{_stable_repr(k, depth)}: {_stable_repr(v, depth)}" for k, v in value.items()) + "}"
    members = ", ".join(sorted(_stable_repr(item, depth) for item in value))
    if kind is set:
        return "{" + members + "}" if value else "set()"
    return "frozenset({" + members + "})" if value else "frozenset()"


_CONTAINERS = frozenset({tuple, list, dict, set, frozenset})
#: Plain values: two equal ones of one type have one repr (``1`` and ``True`` are equal, of two
#: types). _stable_repr keeps their repr as it is; runs and tallies share events holding only such.
PLAIN = frozenset({str, int, bool, type(None)})
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def text_of(error: BaseException) -> str:
    """``str(error)``, or a stand-in when a user's ``__str__`` raises."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a user's __str__ may raise anything
        return f"<{type(error).__name__} whose str() raised>"


def cell_location(location: str | None) -> str | None:
    """``file:line`` as a person finds it: in a notebook, the hidden file IPython compiled
    a cell under becomes the cell's name (``In[3]:5``); anything else is returned as it is.

    >>> cell_location("scenarios/counter.py:13")
    'scenarios/counter.py:13'
    """
    if not location or "IPython" not in sys.modules:
        return location
    file, _, line = location.rpartition(":")
    try:
        from IPython import get_ipython

        named = get_ipython().compile.format_code_name(file)
    except Exception:  # noqa: BLE001 - no shell, or one without cell names: keep the file's name
        return location
    return location if not named else f"{named[1]}:{line}"


def cells_named(text: str) -> str:
    """``text`` with each notebook cell's hidden file name (in messages, too) replaced by the
    cell's name, ``/tmp/ipykernel_1/123.py:4`` by ``In[2]:4``; outside a notebook, ``text``."""
    if "IPython" not in sys.modules:
        return text
    try:
        from IPython import get_ipython

        compiler = get_ipython().compile
        files = compiler._filename_map
    except Exception:  # noqa: BLE001 - no shell, or one that names no cells
        return text
    for file in sorted((f for f in files if f in text), key=len, reverse=True):
        named = compiler.format_code_name(file)
        if named:
            text = text.replace(f"{file}:", f"{named[1]}:")
    return text
