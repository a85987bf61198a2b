"""The kinds of shared object a scenario can declare, one module each.

``variable`` (update), ``lock`` (Lock, RLock), ``semaphore`` (Semaphore,
BoundedSemaphore), ``condition``, ``event``, ``barrier``, ``queue``, ``thread``
(spawn, join) and ``pool`` (ThreadPool and its futures). :mod:`.base` states the
protocol the engine talks to; adding a kind means adding a module here, and nothing
in the engine, the strategies or the detectors.
"""

from .arbitrary import ORDERS
from .barrier import Barrier
from .clock import SLEEPS
from .base import Continue, Declaration, Misuse, Model, Recorded, Throw
from .condition import Condition
from .event import Event
from .lock import LockDeclaration
from .pool import FUTURES, ThreadPool
from .queue import Queue
from .semaphore import BoundedSemaphore, Semaphore
from .thread import THREADS

#: What a step on a name that no declaration gives means, by the step's kind: the
#: objects a run makes itself (threads it starts, futures its pools hand out).
IMPLICIT = {"spawn": THREADS, "join": THREADS, "is_alive": THREADS, "alive_threads": THREADS, "end": THREADS,
            "result": FUTURES, "exception": FUTURES, "finish": FUTURES, "done": FUTURES, "cancel": FUTURES,
            "cancelled": FUTURES, "running": FUTURES, "wait_any": FUTURES, "shuffle": FUTURES,
            "add_done_callback": FUTURES, "callback_raised": FUTURES,
            "deliver": ORDERS, "collect": ORDERS, "sleep": SLEEPS}

__all__ = [
    "IMPLICIT",
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Continue",
    "Declaration",
    "Event",
    "LockDeclaration",
    "Misuse",
    "Model",
    "Queue",
    "Recorded",
    "Semaphore",
    "ThreadPool",
    "Throw",
]
