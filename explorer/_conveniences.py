"""The conveniences on explorer's records that the modules above them provide.

A record offers ``trace.render()``, ``result.to_json()``, ``result.state_graph``, and in a
notebook ``_repr_html_`` and ``_repr_svg_``; the work is done by the modules that word,
write, build and draw (``render``, ``json_format``, ``graphs``, ``notebook``). Those stand
above the records in the data flow and import them, so a record must not import them
back. Instead each of them hands its functions in here when it is imported
(:func:`provides`), and ``explorer/__init__.py`` imports them all: a record, reached
through the package, finds every one of them (:func:`provided`).

>>> from explorer.render import render_result
>>> provided("render_result") is render_result
True
"""

from __future__ import annotations

from collections.abc import Callable

#: Every convenience, by the name of the function that provides it, and that function's module.
SLOTS = {
    "render_trace": "explorer.render",
    "render_result": "explorer.render",
    "result_to_json": "explorer.json_format",
    "encode_value": "explorer.json_format",
    "state_graph": "explorer.graphs",
    "lock_order_graph": "explorer.graphs",
    "trace_html": "explorer.notebook",
    "finding_html": "explorer.notebook",
    "execution_html": "explorer.notebook",
    "result_html": "explorer.notebook",
    "crosscheck_html": "explorer.notebook",
    "stepper_html": "explorer.notebook",
    "graph_svg": "explorer.notebook",
    "figure_svg": "explorer.notebook",
}

_PROVIDED: dict[str, Callable] = {}


def provides(function: Callable) -> Callable:
    """Hand ``function`` in as the convenience of its name (a decorator where it is defined)."""
    name = function.__name__
    assert SLOTS.get(name) == function.__module__, (
        f"[explorer internal bug] {function.__module__}.{name} is not a convenience of "
        f"explorer._conveniences.SLOTS")
    _PROVIDED[name] = function
    return function


def provided(name: str) -> Callable:
    """The function that provides the convenience ``name``."""
    function = _PROVIDED.get(name)
    assert function is not None, (
        f"[explorer internal bug] nothing provides {name!r}: explorer/__init__.py must import "
        f"{SLOTS.get(name, 'the module that defines it')}")
    return function
