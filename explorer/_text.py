"""Showing user values in messages without ever failing.

>>> shown(10 ** 5000)
'<int of about 5001 digits>'
>>> shown("x")
"'x'"
"""

from __future__ import annotations

import sys


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
