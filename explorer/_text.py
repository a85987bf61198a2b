"""Showing user values in messages without ever failing.

>>> shown(10 ** 5000)
'<int of about 5001 digits>'
>>> shown("x")
"'x'"
"""

from __future__ import annotations


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


def _stable_repr(value: object, depth: int) -> str:
    """``repr(value)``, but with the members of sets and frozensets (also inside tuples,
    lists and dicts) in sorted order: their own order follows string hashing, which
    ``PYTHONHASHSEED`` changes between processes, and a report must not.

    >>> _stable_repr((frozenset({"b", "a"}), {2, 1}, [set()]), 0)
    "(frozenset({'a', 'b'}), {1, 2}, [set()])"
    """
    kind = type(value)
    if depth > 20 or kind not in _CONTAINERS:
        return repr(value)
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


def text_of(error: BaseException) -> str:
    """``str(error)``, or a stand-in when a user's ``__str__`` raises."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a user's __str__ may raise anything
        return f"<{type(error).__name__} whose str() raised>"
