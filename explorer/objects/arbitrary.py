"""An order CPython leaves to chance, explored as an interleaving.

``concurrent.futures.as_completed`` yields the futures it finds ended when it is called
in the order of a set of them, which hashes them by their addresses: any order, run to
run. So ``shuffle`` (on the first of those futures) makes an order object
(``as_completed#1``, ``#2``, ... in a run) and starts one thread per future
(``as_completed#1:0``, ...), each of which takes one step, ``deliver``, putting its future
next in the order; the scheduler interleaves those steps as any others, so every order is
explored, and ``collect`` waits until all are in and sends the order back. The threads
return nothing an outcome shows. Plain code's ``as_completed`` is the only user
(explorer/plain/executor.py); real threads run CPython's own.
"""

from __future__ import annotations

from ..steps import Op
from .base import HIDDEN, Declaration, Model


class OrderModel(Model):
    """The futures to put in order, and the order their threads have put them in so far."""

    __slots__ = ("items", "order")
    accepts = frozenset({"deliver", "collect"})

    def __init__(self, name: str, run, items: tuple) -> None:
        super().__init__(name, run)
        self.items = items
        self.order: list = []

    def enabled(self, thread: int, step: tuple) -> bool:
        return step[0] == "deliver" or len(self.order) == len(self.items)

    def step(self, thread: int, step: tuple):
        run = self.run
        if step[0] == "deliver":
            self.order.append(step[2])
            run.sync(thread, publish=("order", self.name))
            return None
        run.sync(thread, absorb=("order", self.name))
        return tuple(self.order)

    def key(self) -> object:
        return (self.items, tuple(self.order))

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return f"the order of {', '.join(map(repr, self.items))} to be drawn", None


#: How the order objects and their threads are named: no thread of the program's own.
ORDER_PREFIX = "as_completed#"


def shuffle(run, thread: int, items: tuple) -> str:
    """Make an order object for ``items`` and start its threads; its name."""
    name = f"{ORDER_PREFIX}{1 + sum(1 for model in run.objects.values() if model.__class__ is OrderModel)}"
    run.add_object(name, OrderModel(name, run, items))
    for index, item in enumerate(items):
        run.start_thread(f"{name}:{index}", lambda item=item: _deliver(name, item), thread)
    return name


def _deliver(name: str, item):
    yield Op("deliver", name, item)
    return HIDDEN  # no part of the outcome


class Orders(Declaration):
    """What an order object's name declares: its own steps touch it, and ``collect`` waits."""

    __slots__ = ()
    kind = "arbitrary order"

    def footprint(self, name: str, step: tuple) -> tuple:
        return (name,)

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "collect"


ORDERS = Orders()
