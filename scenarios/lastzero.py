"""lastzero(n): a reader looks for the last zero in an array while writers fill it in.

The benchmark of Abdulla, Aronis, Jonsson and Sagonas ("Optimal dynamic partial order
reduction", POPL 2014, and "Source sets", JACM 2017), as Nidhugg
(``benchmarks/from_CONCUERROR/lastzero.c``) and Concuerror
(``tests/suites/dpor_tests/src/last_zero.erl``) ship it. ``array[0..n]`` starts at
zero. The reader scans from ``array[n]`` down and stops at the first zero it sees; the
writer ``j`` (1 <= j <= n) sets ``array[j] = array[j-1] + 1``. The reader returns the
index where it stopped.

What it shows: the reader's reads race with the writers' writes in a chain, and which
races matter depends on values read earlier (the reader reads ``array[j-1]`` only if
``array[j]`` was already written). Source-DPOR with sleep sets starts runs here that
every enabled thread's sleep set then blocks; optimal DPOR (wakeup trees) does not.
The number of Mazurkiewicz traces is 2, 5, 12, 28, 64 for n = 1..5 (Nidhugg's
``tests/smoke/reference.results.txt``; Concuerror's ``last_zero`` test result for n = 5),
and (n + 3) * 2**(n - 2) for every n counted here (1 to 10: 3,328 for the papers' n = 10).
"""

from functools import partial

from explorer import Expect, Scenario, read, write


def reader(n):
    i = n
    while (yield read(f"array[{i}]")) != 0:
        i -= 1
    return i


def writer(j):
    value = yield read(f"array[{j - 1}]")
    yield write(f"array[{j}]", value + 1)


def lastzero(n, **options):
    """The lastzero benchmark with ``n`` writers and one reader (``n + 1`` threads).

    ``options`` go to :class:`explorer.Scenario` (``expect=...``).
    """
    threads = {"reader": partial(reader, n)}
    threads.update({f"W{j}": partial(writer, j) for j in range(1, n + 1)})
    return Scenario(f"lastzero({n})", variables={f"array[{i}]": 0 for i in range(n + 1)},
                    threads=threads, **options)


last_zero = lastzero(
    2,
    expect=Expect(
        outcomes=[{"array[0]": 0, "array[1]": 1, "array[2]": 1}, {"array[0]": 0, "array[1]": 1, "array[2]": 2}],
        findings={"race"},
        deadlock=False),
)
