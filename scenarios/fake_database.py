"""The seed notebook's ``FakeDatabase``, written as steps.

The notebook's class::

    class FakeDatabase:
        def __init__(self):
            self.value = 0
            self._lock = threading.Lock()

        def update(self, name):
            old = self.value                       # first read
            ...                                    # (work, then a fresh read)
            self.value = self.value + (old + 1)

        def locked_update(self, name):
            with self._lock:
                ...same body...

Run by two threads from 0, one after the other, ``update`` gives 1 then 3. Interleaved,
it can also end at 2 (one thread's fresh read sees the other's write, its first
read did not) or at 1 (both fresh reads see 0: a lost update). ``locked_update``
only ever ends at 3.

The notebook first submitted ``update`` to a ``ThreadPoolExecutor`` with a
signature that did not match its arguments. The executor kept the ``TypeError``
inside a future nobody read, and the program printed 0. Here the same mistake is
an error finding that names the thread and the ``TypeError``.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def update(name):
    """``FakeDatabase.update``: db = db + (old + 1), the second read fresh."""
    old = yield read("value")
    current = yield read("value")
    yield write("value", current + (old + 1))
    return name


def locked_update(name):
    """``FakeDatabase.locked_update``: the same body inside ``with self._lock``."""
    yield acquire("_lock")
    value = yield from update(name)
    yield release("_lock")
    return value


def update_without_name():
    """The notebook's first ``update``: it took no ``name``, but was given one."""
    yield from update(None)


fake_database_update = Scenario(
    "FakeDatabase.update",
    variables={"value": 0},
    threads={"T0": partial(update, 0), "T1": partial(update, 1)},
    expect=Expect(
        outcomes=[{"value": 1}, {"value": 2}, {"value": 3}],
        findings={"lost-update", "nonserializable", "race"},
        deadlock=False),
)

fake_database_locked_update = Scenario(
    "FakeDatabase.locked_update",
    variables={"value": 0},
    locks=["_lock"],
    threads={"T0": partial(locked_update, 0), "T1": partial(locked_update, 1)},
    expect=Expect(outcomes=[{"value": 3}], findings=set(), deadlock=False),
)

fake_database_wrong_signature = Scenario(
    "FakeDatabase.update, wrong signature",
    variables={"value": 0},
    threads={
        "T0": partial(update_without_name, 0),
        "T1": partial(update_without_name, 1),
    },
    expect=Expect(outcomes=[], findings={"error"}, deadlock=False),
)
