"""``queue.Queue``, ``queue.LifoQueue`` and ``queue.PriorityQueue``.

``put`` blocks while the queue is full (``maxsize`` > 0), ``get`` while it is empty and
sends back the item; their non-blocking and timed forms are always enabled and throw
``queue.Full`` / ``queue.Empty`` into the thread when they give up, so its own
``except`` runs. ``task_done`` and ``join`` count unfinished items as ``queue.Queue``
does (a ``task_done`` too many is an ``error`` with its ``ValueError``).
Happens-before: a ``put`` publishes on its item, the ``get`` that takes the item absorbs
it; every ``task_done`` publishes on the queue, and ``join`` absorbs them.
Twin: the real ``queue.Queue``, ``LifoQueue`` or ``PriorityQueue``.
"""

from __future__ import annotations

import heapq
import queue

from ..errors import ScenarioError
from .base import Declaration, Misuse, Model, Throw, Twin, timed, timed_out

TOO_MANY = "task_done() called too many times"
ORDERS = ("fifo", "lifo", "priority")


class Queue(Declaration):
    """``Queue(maxsize=0, order="fifo")``: ``order`` "lifo" is ``queue.LifoQueue`` and
    "priority" is ``queue.PriorityQueue`` (smallest item first).

    >>> Queue(maxsize=2), Queue(order="lifo")
    (Queue(maxsize=2), Queue(order='lifo'))
    """

    __slots__ = ("maxsize", "order")
    _fields = ("maxsize", "order")
    kind = "Queue"

    def __init__(self, maxsize: int = 0, order: str = "fifo") -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise ScenarioError(f"Queue(maxsize={maxsize!r}): maxsize must be an int "
                                f"(0 or less: unbounded, as queue.Queue has it)")
        if order not in ORDERS:
            raise ScenarioError(f"Queue(order={order!r}): the orders are {', '.join(map(repr, ORDERS))}")
        self.maxsize = maxsize
        self.order = order
        self._frozen = True

    def __repr__(self) -> str:
        parts = [f"maxsize={self.maxsize}"] if self.maxsize else []
        if self.order != "fifo":
            parts.append(f"order={self.order!r}")
        return f"Queue({', '.join(parts)})"

    def may_block(self, name: str, step: tuple) -> bool:
        kind = step[0]
        # a put waits only on a bounded queue
        return (kind == "get" and len(step) == 2) or (kind == "put" and len(step) == 3 and self.maxsize > 0) \
            or kind == "join"

    def may_yield(self, name: str, step: tuple) -> bool:
        kind = step[0]
        return (kind == "get" and len(step) == 3 and timed(step[2])) or (kind == "put" and len(step) == 4
                                                                          and timed(step[3]))

    def model(self, name: str, run) -> QueueModel:
        return QueueModel(name, run, self.maxsize, self.order)

    def twin(self, name: str, real) -> QueueTwin:
        kind = {"fifo": queue.Queue, "lifo": queue.LifoQueue, "priority": queue.PriorityQueue}[self.order]
        return QueueTwin(name, real, kind(self.maxsize))


class QueueModel(Model):
    __slots__ = ("items", "maxsize", "order", "sequence", "unfinished")
    accepts = frozenset({"put", "get", "task_done", "join", "qsize"})

    def __init__(self, name: str, run, maxsize: int, order: str) -> None:
        super().__init__(name, run)
        self.maxsize = maxsize
        self.order = order
        self.items: list[tuple[object, int]] = []  # (item, put number), in arrival order
        self.sequence = 0
        self.unfinished = 0

    def holding(self, items: tuple, unfinished: int) -> None:
        """Start with ``items`` in it and ``unfinished`` tasks not done: plain code's queue
        made at import and filled since. ``items`` are in the order ``queue.Queue`` keeps
        them (a priority queue's heap as it is, so that ties leave it as they would)."""
        entry = _Entry if self.order == "priority" else tuple
        self.items = [entry((item, n)) for n, item in enumerate(items)]
        self.sequence = len(items)
        self.unfinished = unfinished

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self.items)

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "put":
            return len(step) == 4 or not self.full()
        if kind == "get":
            return len(step) == 3 or bool(self.items)
        if kind == "join":
            return self.unfinished == 0
        return True

    def step(self, thread: int, step: tuple):
        kind = step[0]
        run = self.run
        if kind == "put":
            if self.full():
                if len(step) == 4 and step[3][0]:
                    timed_out(run, thread, step[3][1])
                raise Throw(queue.Full())
            if self.order == "priority":
                try:  # queue.PriorityQueue's own heap: ties come out as heapq leaves them
                    heapq.heappush(self.items, _Entry((step[2], self.sequence)))
                except Exception as error:  # noqa: BLE001 - items that cannot be compared: raised in
                    raise Throw(error) from None  # the thread's put, as queue.PriorityQueue does
            else:
                self.items.append((step[2], self.sequence))
            run.sync(thread, publish=(self.name, self.sequence))
            self.sequence += 1
            self.unfinished += 1
            return None
        if kind == "get":
            if not self.items:
                if len(step) == 3 and step[2][0]:
                    timed_out(run, thread, step[2][1])
                raise Throw(queue.Empty())
            if self.order == "priority":
                try:
                    item, number = heapq.heappop(self.items)
                except Exception as error:  # noqa: BLE001 - an item put past a failed comparison
                    raise Throw(error) from None
            else:
                item, number = self.items.pop(0 if self.order == "fifo" else -1)
            run.sync(thread, absorb=(self.name, number))
            return item
        if kind == "qsize":  # qsize(), empty(), full(): how many items it holds now
            return len(self.items)
        if kind == "task_done":
            if self.unfinished <= 0:
                raise Misuse(f"called task_done on queue {self.name!r} more times than items were put; "
                             f"queue.Queue raises ValueError('{TOO_MANY}') here", ValueError(TOO_MANY),
                             ("task_done", self.name))
            self.unfinished -= 1
            run.sync(thread, publish=self.name)
            return None
        run.sync(thread, absorb=self.name)  # join
        return None

    def key(self) -> object:
        return (tuple(item for item, _ in self.items), self.unfinished)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        kind = step[0]
        if kind == "get":
            return f"an item in queue {self.name!r}, which is empty", None
        if kind == "put":
            return f"room in queue {self.name!r}, which is full ({len(self.items)} items)", None
        return f"every item of queue {self.name!r} to be done ({self.unfinished} unfinished)", None


class _Entry(tuple):
    """``(item, put number)`` in a priority queue's heap: ordered by the item alone, as
    ``queue.PriorityQueue`` orders its heap, so that equal items leave it in the same order."""

    __slots__ = ()

    def __lt__(self, other: _Entry) -> bool:
        return self[0] < other[0]


class QueueTwin(Twin):
    __slots__ = ("queue",)
    accepts = QueueModel.accepts

    def __init__(self, name: str, real, real_queue: queue.Queue) -> None:
        super().__init__(name, real)
        self.queue = real_queue

    def step(self, thread: int, step: tuple):
        kind = step[0]
        q = self.queue
        if kind == "task_done":
            q.task_done()  # queue's own ValueError when called too many times
            return None
        if kind == "join":
            self.real.block(self._joined, None, lambda: q.unfinished_tasks == 0)
            return None
        options = step[-1] if len(step) == (4 if kind == "put" else 3) else (True, None)
        timeout = options[1] if options[0] else 0
        got: list = []
        if kind == "put":
            item = step[2]

            def attempt(seconds: float) -> bool:
                try:
                    q.put(item, seconds > 0, seconds or None)
                except queue.Full:
                    return False
                return True
        else:
            def attempt(seconds: float) -> bool:
                try:
                    got.append(q.get(seconds > 0, seconds or None))
                except queue.Empty:
                    return False
                return True
        ready = (lambda: not q.full()) if kind == "put" else (lambda: not q.empty())
        if not self.real.block(attempt, timeout, ready):
            raise Throw(queue.Full() if kind == "put" else queue.Empty())
        return got[0] if got else None

    def _joined(self, seconds: float) -> bool:
        done = self.queue.all_tasks_done
        with done:
            if self.queue.unfinished_tasks and seconds > 0:
                done.wait(seconds)
            return not self.queue.unfinished_tasks

