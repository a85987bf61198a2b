"""filesystem(n): threads allocate a disk block for an inode, each under two levels of locks.

The file-system example of Flanagan and Godefroid ("Dynamic partial-order reduction for
model checking software", POPL 2005), used again by Abdulla et al. (POPL
2014, JACM 2017) and shipped by Concuerror (``tests/suites/dpor_tests/src/
file_system_example.erl``) and Nidhugg (``benchmarks/from_TRACER/filesystem.c``). Thread
``tid`` owns inode ``i = tid % 32``: under ``locki[i]``, if ``inode[i]`` is 0 it scans
the 26 blocks from ``b = 2i % 26``, taking ``lockb[b]`` around a look at ``busy[b]``; the
first free block is marked busy and recorded as ``inode[i] = b + 1``.

What it shows: with up to 13 threads no two threads touch the same lock or variable,
so there is one Mazurkiewicz trace however many interleavings there are. Thread ``t + 13``
starts at thread ``t``'s block, so from 14 threads on each such pair races once for
the block (who wins, and who moves on to the next one): 2**(n - 13) traces, 2, 8, 32
and 64 for the papers' 14, 16, 18 and 19 threads (Concuerror's recorded result for 16
is 8). ``blocks`` and ``inodes`` (26 and 32 in the paper) make small variants that race
with few threads. The loop is the paper's ``while (true)``, so it ends only if
``n <= blocks``.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def allocate(tid, blocks, inodes):
    i = tid % inodes
    yield acquire(f"locki[{i}]")
    if (yield read(f"inode[{i}]")) == 0:
        b = (i * 2) % blocks
        while True:
            yield acquire(f"lockb[{b}]")
            if not (yield read(f"busy[{b}]")):
                yield write(f"busy[{b}]", True)
                yield write(f"inode[{i}]", b + 1)
                yield release(f"lockb[{b}]")
                break
            yield release(f"lockb[{b}]")
            b = (b + 1) % blocks
    yield release(f"locki[{i}]")


def blocks_are_not_shared(state):
    """No two inodes record the same block."""
    taken = [value for var, value in state.items() if var.startswith("inode[") and value != 0]
    return len(taken) == len(set(taken))


def filesystem(n, *, blocks=26, inodes=32, **options):
    """The file-system benchmark with ``n`` threads; ``options`` go to :class:`explorer.Scenario`."""
    name = f"filesystem({n})" if (blocks, inodes) == (26, 32) else f"filesystem({n}, {blocks} blocks, {inodes} inodes)"
    return Scenario(
        name,
        variables={**{f"inode[{i}]": 0 for i in range(inodes)}, **{f"busy[{b}]": False for b in range(blocks)}},
        locks=[f"locki[{i}]" for i in range(inodes)] + [f"lockb[{b}]" for b in range(blocks)],
        threads={f"T{tid}": partial(allocate, tid, blocks, inodes) for tid in range(n)},
        invariant=blocks_are_not_shared,
        **options,
    )


# Two threads whose inodes hash to the same first block: either may win it.
file_system_race = filesystem(
    2, blocks=2, inodes=2,
    expect=Expect(
        outcomes=[{"inode[0]": 1, "inode[1]": 2, "busy[0]": True, "busy[1]": True},
                  {"inode[0]": 2, "inode[1]": 1, "busy[0]": True, "busy[1]": True}],
        findings=set(),
        deadlock=False),
)
