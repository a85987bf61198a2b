"""Showing user values in messages without ever failing.

>>> shown(10 ** 5000)
'<int of about 5001 digits>'
>>> shown("x")
"'x'"
"""

from __future__ import annotations


def shown(value: object) -> str:
    """``repr(value)``, or a short stand-in when that fails: an int past Python's digit
    limit for ``str`` (``sys.get_int_max_str_digits``), or a ``__repr__`` that raises."""
    try:
        return repr(value)
    except ValueError:
        if isinstance(value, int):
            return f"<int of about {int(abs(value).bit_length() * 0.30103) + 1} digits>"
        return f"<{type(value).__name__} whose repr failed>"
    except Exception:  # noqa: BLE001 - a user's __repr__ may raise anything
        return f"<{type(value).__name__} whose repr failed>"


def text_of(error: BaseException) -> str:
    """``str(error)``, or a stand-in when a user's ``__str__`` raises."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a user's __str__ may raise anything
        return f"<{type(error).__name__} whose str() raised>"
