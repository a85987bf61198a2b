"""Producer and consumer with a ``Condition``: wait in a ``while`` loop, and never notify into the void.

A producer appends items to a shared tuple and calls ``notify`` on the condition
``ready``; a consumer holding the condition's lock waits while there is nothing to take.
``wait`` gives up the lock, and when a notify wakes the consumer it must take the lock
back before ``wait`` returns: another thread can run in between.

- ``while`` (correct): the consumer looks again after every wake-up. With one producer
  of two items and two consumers, every schedule ends with both items taken.
- ``if`` with two consumers: C1 waits; the producer adds an item and wakes C1; before C1
  has the lock back, C2 takes it, finds the item and takes it. C1 returns from ``wait``
  to an empty buffer and ``items[0]`` raises ``IndexError``: an ``error`` finding.
- ``if`` with one consumer is still wrong: Python's documentation lets ``wait`` return
  with no notify at all (a spurious wakeup). With ``spurious_wakeups=True`` the explorer
  explores that too and finds the same ``IndexError``; the ``while`` survives it.
- Notify before the wait: a consumer that waits without first looking at the buffer
  sleeps forever if the producer's notify came first, since a notify with no waiter is
  lost. The deadlock finding names it a lost wakeup and marks that notify in the trace.
"""

from functools import partial

from explorer import Condition, Expect, Scenario, acquire, notify, read, release, wait, write

ITEMS = (1, 2)


def producer(items=ITEMS):
    for item in items:
        yield acquire("lock")
        buffer = yield read("items")
        yield write("items", buffer + (item,))
        yield notify("ready")
        yield release("lock")


def consumer():
    """The correct consumer: ``while`` the buffer is empty, wait."""
    yield acquire("lock")
    while not (yield read("items")):
        yield wait("ready")
    buffer = yield read("items")
    yield write("items", buffer[1:])
    yield release("lock")
    return buffer[0]


def consumer_with_if():
    """The bug: ``if`` the buffer is empty, wait once, then assume an item is there."""
    yield acquire("lock")
    if not (yield read("items")):
        yield wait("ready")
    buffer = yield read("items")
    item = buffer[0]  # IndexError when another consumer took the item first
    yield write("items", buffer[1:])
    yield release("lock")
    return item


def consumer_waits_first():
    """The bug: wait for the notify without looking whether the item is already there."""
    yield acquire("lock")
    yield wait("ready")
    buffer = yield read("items")
    yield write("items", buffer[1:])
    yield release("lock")
    return buffer[0]


def _buffer(name, threads, **options):
    return dict(name=name, variables={"items": ()}, locks={"lock": "lock"},
                objects={"ready": Condition("lock")}, threads=threads, **options)


producer_consumer = Scenario(
    **_buffer("producer/consumer, while", {"P": producer, "C1": consumer, "C2": consumer}),
    expect=Expect(outcomes=[{"items": ()}], findings=set(), deadlock=False),
)

producer_consumer_if = Scenario(
    **_buffer("producer/consumer, if, two consumers", {"P": producer, "C1": consumer_with_if, "C2": consumer_with_if}),
    expect=Expect(outcomes=[{"items": ()}], findings={"error"}, deadlock=False),
)

producer_consumer_if_spurious = Scenario(
    **_buffer("producer/consumer, if, spurious wakeups",
              {"P": partial(producer, (1,)), "C": consumer_with_if}, spurious_wakeups=True),
    expect=Expect(outcomes=[{"items": ()}], findings={"error"}, deadlock=False),
)

producer_consumer_while_spurious = Scenario(
    **_buffer("producer/consumer, while, spurious wakeups",
              {"P": partial(producer, (1,)), "C": consumer}, spurious_wakeups=True),
    expect=Expect(outcomes=[{"items": ()}], findings=set(), deadlock=False),
)

lost_wakeup = Scenario(
    **_buffer("producer/consumer, notify before the wait", {"P": partial(producer, (1,)), "C": consumer_waits_first}),
    expect=Expect(outcomes=[{"items": ()}], findings={"deadlock"}, deadlock=True),
)
