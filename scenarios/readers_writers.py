"""A readers-writers lock built from a ``Condition``: many readers at once, or one writer alone.

The lock's state is one number under the condition's lock: the count of active readers,
or -1 while a writer writes. A reader waits while a writer is active, then counts
itself in; the last reader out wakes the waiting writers. A writer waits while anybody
is active, then marks the lock -1; on its way out it wakes everybody (``notify_all``:
waiting readers may all go in together). Every wait sits in a ``while`` loop, since a
woken thread must look again: another may have got in first.

Two readers and a writer share ``data``. Readers read it outside the condition's lock,
yet nothing races: entering and leaving go through that lock, which orders each
reader's read and the writer's write. A reader sees the old or the new value, never a
half-written one. A reader that reads after it has left is not protected: its read
and the writer's write are unordered, and the race detector says so.
"""

from explorer import Condition, Expect, Scenario, acquire, notify_all, read, release, wait, write


def start_reading():
    yield acquire("lock")
    while (yield read("state")) < 0:
        yield wait("changed")
    readers = yield read("state")
    yield write("state", readers + 1)
    yield release("lock")


def stop_reading():
    yield acquire("lock")
    readers = yield read("state")
    yield write("state", readers - 1)
    if readers == 1:
        yield notify_all("changed")
    yield release("lock")


def start_writing():
    yield acquire("lock")
    while (yield read("state")) != 0:
        yield wait("changed")
    yield write("state", -1)
    yield release("lock")


def stop_writing():
    yield acquire("lock")
    yield write("state", 0)
    yield notify_all("changed")
    yield release("lock")


def reader():
    yield from start_reading()
    seen = yield read("data")
    yield from stop_reading()
    return seen


def reader_reading_too_late():
    """The bug: the read comes after the reader has left, so nothing keeps the writer out."""
    yield from start_reading()
    yield from stop_reading()
    return (yield read("data"))


def writer():
    yield from start_writing()
    yield write("data", "new")
    yield from stop_writing()


def _rw(name, read_body):
    return dict(name=name, variables={"data": "old", "state": 0}, locks={"lock": "lock"},
                objects={"changed": Condition("lock")},
                threads={"R1": read_body, "R2": read_body, "W": writer})


readers_writers = Scenario(
    **_rw("readers-writers lock", reader),
    expect=Expect(outcomes=[{"data": "new", "state": 0}], findings=set(), deadlock=False),
)

readers_writers_read_after_leaving = Scenario(
    **_rw("readers-writers lock, read after leaving", reader_reading_too_late),
    expect=Expect(outcomes=[{"data": "new", "state": 0}], findings={"race"}, deadlock=False),
)
