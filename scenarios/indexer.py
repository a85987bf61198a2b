"""indexer(n): threads insert messages into a shared hash table with compare-and-swap.

The indexer of Flanagan and Godefroid ("Dynamic partial-order reduction for model
checking software", POPL 2005), used again by Abdulla et al. (POPL 2014, JACM 2017)
and shipped by Concuerror (``tests/suites/advanced_tests/src/indexer_example.erl``)
and Nidhugg (``benchmarks/SV-COMP/indexer.c``). Thread ``tid`` inserts the messages
``w = m * 11 + tid`` for m = 1..4 into a table of 128 slots: it tries slot
``h = 7w % 128`` with ``cas(table[h], 0, w)`` and, while that fails, the next slot.

Our steps have no compare-and-swap, so each CAS is a critical section of that slot's
lock: ``acquire(cas[h])``, read ``table[h]``, write ``w`` if it was 0, ``release(cas[h])``.
Nothing touches a slot outside its lock, so the critical section acts as one atomic
step, and two CASes on one slot are dependent (two critical sections of one lock), as
two CASes on one location are for the papers; Nidhugg's C version models the CAS with
a mutex per slot in the same way. One difference: a true CAS that fails only reads, so
two failing CASes on one slot commute, while two critical sections do not; with up to
15 threads no slot is ever tried by more than two threads, so the counts agree.

What it shows: with up to 11 threads every message has a slot of its own, so there is
one Mazurkiewicz trace. Thread ``t + 11``'s m-th message equals thread ``t``'s
(m + 1)-th, so from 12 threads on each such pair races for 3 slots: 8**(n - 11) traces,
8, 64, 512 and 4096 for n = 12..15. ``size`` and ``messages`` (128 and 4 in the paper)
make small variants that collide with few threads.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def cas(slot, expected, new):
    """Compare-and-swap on ``table[slot]``, atomic because its lock is held throughout."""
    yield acquire(f"cas[{slot}]")
    swapped = (yield read(f"table[{slot}]")) == expected
    if swapped:
        yield write(f"table[{slot}]", new)
    yield release(f"cas[{slot}]")
    return swapped


def insert_messages(tid, size, messages):
    for m in range(1, messages + 1):
        w = m * 11 + tid
        h = (w * 7) % size
        while not (yield from cas(h, 0, w)):
            h = (h + 1) % size


def every_message_stored_once(messages_of):
    def check(state):
        stored = sorted(value for value in state.values() if value != 0)
        return stored == messages_of
    return check


def indexer(n, *, size=128, messages=4, **options):
    """The indexer benchmark with ``n`` threads; ``options`` go to :class:`explorer.Scenario`."""
    name = f"indexer({n})" if (size, messages) == (128, 4) else f"indexer({n}, {size} slots, {messages} messages)"
    all_messages = sorted(m * 11 + tid for tid in range(n) for m in range(1, messages + 1))
    return Scenario(
        name,
        variables={f"table[{h}]": 0 for h in range(size)},
        locks=[f"cas[{h}]" for h in range(size)],
        threads={f"T{tid}": partial(insert_messages, tid, size, messages) for tid in range(n)},
        invariant=every_message_stored_once(all_messages),
        **options,
    )


# In a table of 7 slots every message hashes to slot 0: the loser of the race moves on to slot 1.
indexer_race = indexer(
    2, size=7, messages=1,
    expect=Expect(
        outcomes=[{"table[0]": 11, "table[1]": 12, **{f"table[{h}]": 0 for h in range(2, 7)}},
                  {"table[0]": 12, "table[1]": 11, **{f"table[{h}]": 0 for h in range(2, 7)}}],
        findings=set(),
        deadlock=False),
)
