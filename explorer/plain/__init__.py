"""Plain threading code, explored unmodified (``explorer.program``).

Each thread of the program runs as a greenlet on the exploring OS thread (runtime.py);
for the length of each run ``threading``, ``queue``, ``concurrent.futures`` and
``time`` are patched so that every operation on a threading object is a step on the
vocabulary's model of it (one module per kind: locks, conditions, semaphores, events,
barriers, queues, threads, executor, clock), and the tracked classes' attributes are
variables (tracking.py). runs.py brackets each run; patches.py undoes everything.
"""

from .program import program
from .untracked import Untracked, untracked

__all__ = ["Untracked", "program", "untracked"]
