"""The seed notebook's first cells written as steps (scenarios/seed_notebook.py has them as written): start three threads and join them; ``ThreadPoolExecutor.map``;
and a ``submit`` whose ``TypeError`` nobody sees.

The notebook's ``thread_function(name)`` logs "starting", sleeps, and logs "finishing".
Its main thread starts three of them and joins each::

    threads = [threading.Thread(target=thread_function, args=(i,)) for i in range(3)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()

Here each log line is one atomic ``update`` of a shared tuple (``logging`` takes a lock
per record), ``spawn`` starts a thread and ``join`` waits for it. The lines of
different threads interleave in every way that keeps each thread's "starting" before
its "finishing" (90 orders), yet after the three joins the main thread always sees all
six: ``join`` is what makes a thread's work visible.

``executor.map(thread_function, range(3))`` is ``submit`` for each item, then
``result`` of each future in order: the tasks run in any order on the pool's workers,
but the results come back in the order of the items. (Two items on two workers here:
every worker is a thread of its own, and three of each already make hundreds of
thousands of schedules.)

The notebook's ``FakeDatabase`` cell submitted ``database.update`` with an argument it
did not take. ``concurrent.futures`` keeps the ``TypeError`` in a future that nobody
read, the program printed 0, and nobody noticed. The explorer reports that exception as
an ``error`` finding naming the task, its worker and the ``TypeError``.
"""

from itertools import combinations

from explorer import Expect, Scenario, ThreadPool, join, read, result, shutdown, spawn, submit, update, write

NAMES = (0, 1, 2)
MAP_ITEMS = (0, 1)


def log(line):
    return update("log", lambda lines: lines + (line,))


def thread_function(name):
    yield log(f"Thread {name}: starting")
    yield log(f"Thread {name}: finishing")
    return name * name


def main():
    for name in NAMES:
        yield spawn(f"thread-{name}", thread_function, name)
    for name in NAMES:
        yield join(f"thread-{name}")
    lines = yield read("log")
    yield write("seen_by_main", len(lines))


def main_with_map():
    futures = []
    for name in MAP_ITEMS:
        futures.append((yield submit("executor", thread_function, name)))
    results = []
    for future in futures:
        results.append((yield result(future)))
    yield shutdown("executor")
    yield write("results", tuple(results))


class FakeDatabase:
    def update(self):  # the notebook's bug: update(self) was submitted with an argument
        value = yield read("value")
        yield write("value", value + 1)


def main_with_lost_type_error():
    database = FakeDatabase()
    for index in range(2):
        yield submit("executor", database.update, index)
    yield shutdown("executor")


def every_log(names=NAMES):
    """Every order of the log lines that keeps each thread's start before its finish."""
    orders = [()]
    for name in names:
        pair = (f"Thread {name}: starting", f"Thread {name}: finishing")
        merged = []
        for order in orders:
            size = len(order) + 2
            for first, second in combinations(range(size), 2):
                rest = iter(order)
                merged.append(tuple(pair[0] if k == first else pair[1] if k == second else next(rest)
                                    for k in range(size)))
        orders = merged
    return orders


start_and_join = Scenario(
    "three threads started and joined",
    variables={"log": (), "seen_by_main": 0},
    threads={"main": main},
    expect=Expect(outcomes=[{"log": log, "seen_by_main": 6} for log in every_log()], findings=set(),
                  deadlock=False),
)

executor_map = Scenario(
    "ThreadPoolExecutor.map",
    variables={"log": (), "results": ()},
    objects={"executor": ThreadPool(max_workers=2)},
    threads={"main": main_with_map},
    expect=Expect(outcomes=[{"log": log, "results": (0, 1)} for log in every_log(MAP_ITEMS)], findings=set(),
                  deadlock=False),
)

lost_type_error = Scenario(
    "submit whose TypeError nobody reads",
    variables={"value": 0},
    objects={"executor": ThreadPool(max_workers=2)},
    threads={"main": main_with_lost_type_error},
    expect=Expect(outcomes=[{"value": 0}], findings={"error"}, deadlock=False),
)
