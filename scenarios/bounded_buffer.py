"""The bounded buffer: two semaphores count the room and the items, a mutex guards the buffer.

``empty`` starts at the buffer's size and counts free slots; ``full`` starts at 0 and
counts items. The producer takes a free slot (``acquire("empty")``), then the mutex,
appends, lets the mutex go and announces the item (``release("full")``); the consumer
does the mirror image. The semaphores make each side wait for the other, and the mutex
keeps the two from touching the buffer at once.

The order of the two acquires matters. A producer that takes the mutex first and then
waits for a free slot, while the buffer is full, sleeps holding the mutex: the
consumer, which would free a slot, waits for that mutex. Neither moves again. Here the
buffer holds one item and the producer makes two, so the second item finds it full.
"""

from explorer import Expect, Scenario, Semaphore, acquire, read, release, write

SIZE = 2
ITEMS = (1, 2, 3)


def producer(items=ITEMS):
    for item in items:
        yield acquire("empty")
        yield acquire("mutex")
        buffer = yield read("buffer")
        yield write("buffer", buffer + (item,))
        yield release("mutex")
        yield release("full")


def producer_swapped(items=ITEMS):
    """The bug: the mutex first, then wait for room while holding it."""
    for item in items:
        yield acquire("mutex")
        yield acquire("empty")
        buffer = yield read("buffer")
        yield write("buffer", buffer + (item,))
        yield release("mutex")
        yield release("full")


def consumer(count=len(ITEMS)):
    taken = ()
    for _ in range(count):
        yield acquire("full")
        yield acquire("mutex")
        buffer = yield read("buffer")
        yield write("buffer", buffer[1:])
        yield release("mutex")
        yield release("empty")
        taken += buffer[:1]
    yield write("taken", taken)


def _buffer(name, make):
    return dict(name=name, variables={"buffer": (), "taken": ()}, locks=["mutex"],
                objects={"empty": Semaphore(SIZE), "full": Semaphore(0)},
                threads={"P": make, "C": consumer})


bounded_buffer = Scenario(
    **_buffer("bounded buffer", producer),
    expect=Expect(outcomes=[{"buffer": (), "taken": ITEMS}], findings=set(), deadlock=False),
)

bounded_buffer_swapped = Scenario(
    **_buffer("bounded buffer, acquires swapped", producer_swapped),
    expect=Expect(outcomes=[{"buffer": (), "taken": ITEMS}], findings={"deadlock"}, deadlock=True),
)
