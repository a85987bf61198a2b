"""Guards against a thread body ending the whole process while it is being explored.

``os._exit()`` ends the process at once: no ``finally`` block, no summary, and the exit
status the body chose (often 0), so a run that explored half a scenario would look
like a pass. While an execution runs, :func:`no_process_exit` makes ``os._exit`` called
*from the exploring thread* raise :class:`ProcessExit` instead, which the engine captures
like any exception a body raises: an ``error`` finding naming the thread and the line.
Any other thread of the process still exits as it asked. The patch is scoped to
``explore``/``replay`` and undone when the last one returns (they may nest).
"""

from __future__ import annotations

import os
import threading
from _thread import get_ident  # the real one: a plain program's runs patch threading.get_ident
from contextlib import contextmanager

from .watchdog import RUNNING

_real_exit = os._exit
_depth = 0
_patching = threading.Lock()


class ProcessExit(SystemExit):
    """Raised in place of ``os._exit(status)`` inside an explored thread body."""

    def __str__(self) -> str:
        return (f"os._exit({self.code!r}) was called in a thread body; explorer does not let a body "
                f"end the process during exploration (it would hide every result); return from the "
                f"body instead")


def _guarded_exit(status: int) -> None:
    if get_ident() in RUNNING:
        raise ProcessExit(status)
    _real_exit(status)


@contextmanager
def no_process_exit():
    """``with no_process_exit():`` turns ``os._exit`` in an explored body into a finding."""
    global _depth
    with _patching:
        if _depth == 0:
            os._exit = _guarded_exit
        _depth += 1
    try:
        yield
    finally:
        with _patching:
            _depth -= 1
            if _depth == 0:
                os._exit = _real_exit
