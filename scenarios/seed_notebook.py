"""The seed notebook's code as written, checked by ``explorer.program``: no step in it.

The notebook follows Real Python's "An Intro to Threading in Python": threads that log
and sleep, started and joined; ``ThreadPoolExecutor.map``; a ``FakeDatabase`` whose
``update`` reads ``self.value``, sleeps, and writes it back, first without a lock and then
``with self._lock``; a lock acquired twice; an ``RLock``. Its cells are below unchanged,
each function body one cell; the notebook configured logging with
``logging.basicConfig(format="%(asctime)s: %(message)s", level=logging.INFO,
datefmt="%H:%M:%S")``, which here runs only when the file runs as a script (explored,
every run would print its lines). What explorer says about each cell:

- three threads started and joined, and ``executor.map``: every order of their steps,
  no finding; ``time.sleep(2)`` takes no time (virtual time);
- the notebook's first ``FakeDatabase.update`` took no ``name`` but was submitted with
  one: the ``TypeError`` stayed inside a future nobody read and the cell printed 0;
  here it is an ``error`` finding naming the task and the ``TypeError``;
- ``update`` run by two workers loses an update (``FakeDatabase#1.value`` ends at 1 or 2);
- ``locked_update`` loses none (always 2);
- a ``Lock`` acquired twice by one thread deadlocks, the thread waiting on itself; an
  ``RLock`` does not (and explorer warns that the cell ends holding it).

    explorer run scenarios/seed_notebook.py
"""

import concurrent.futures
import logging
import threading
import time

from explorer import Expect, program


def thread_function(name):
    logging.info("Thread %s: starting", name)
    time.sleep(2)
    logging.info("Thread %s: finishing", name)


def start_and_join():
    threads = list()
    for index in range(3):
        logging.info("Main    : create and start thread %d.", index)
        x = threading.Thread(target=thread_function, args=(index,))
        threads.append(x)
        x.start()

    for index, thread in enumerate(threads):
        logging.info("Main    : before joining thread %d.", index)
        thread.join()
        logging.info("Main    : thread %d done", index)


def executor_map():
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
        executor.map(thread_function, range(3))


class FirstCell:
    """The notebook's first try, kept apart so that both versions keep their name."""

    class FakeDatabase:
        def __init__(self):
            self.value = 0

        def update(self):
            logging.info("Thread %s: starting update", "?")
            local_copy = self.value
            local_copy += 1
            time.sleep(0.1)
            self.value = local_copy
            logging.info("Thread %s: finishing update", "?")


class FakeDatabase:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def update(self, name):
        logging.info("Thread %s: starting update", name)
        local_copy = self.value
        local_copy += 1
        time.sleep(0.1)
        self.value = local_copy
        logging.info("Thread %s: finishing update", name)

    def locked_update(self, name):
        logging.info("Thread %s: starting update", name)
        logging.debug("Thread %s about to lock", name)
        with self._lock:
            logging.debug("Thread %s has lock", name)
            local_copy = self.value
            local_copy += 1
            time.sleep(0.1)
            self.value = local_copy
            logging.debug("Thread %s about to release lock", name)
        logging.debug("Thread %s after release", name)
        logging.info("Thread %s: finishing update", name)


def first_update_cell():
    database = FirstCell.FakeDatabase()
    logging.info("Testing update. Starting value is %d.", database.value)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        for index in range(2):
            executor.submit(database.update, index)
    logging.info("Testing update. Ending value is %d.", database.value)
    return database.value


def update_cell():
    database = FakeDatabase()
    logging.info("Testing update. Starting value is %d.", database.value)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        for index in range(2):
            executor.submit(database.update, index)
    logging.info("Testing update. Ending value is %d.", database.value)
    return database.value


def locked_update_cell():
    database = FakeDatabase()
    logging.info("Testing locked update. Starting value is %d.", database.value)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        for index in range(2):
            executor.submit(database.locked_update, index)
    logging.info("Testing locked update. Ending value is %d.", database.value)
    return database.value


def lock_twice_cell():
    l = threading.Lock()  # noqa: E741 - the notebook's name
    print("before first acquire")
    l.acquire()
    print("before second acquire")
    l.acquire()
    print("acquired lock twice")


def rlock_twice_cell():
    l = threading.RLock()  # noqa: E741 - the notebook's name
    print("before first acquire")
    l.acquire()
    print("before second acquire")
    l.acquire()
    print("acquired lock twice")


three_threads = program(
    "three threads started and joined", start_and_join,
    expect=Expect(outcomes=[{}], findings=set(), deadlock=False))

executor_map_cell = program(
    "ThreadPoolExecutor.map", executor_map,
    expect=Expect(outcomes=[{}], findings=set(), deadlock=False))

swallowed_type_error = program(
    "FakeDatabase.update without name: the swallowed TypeError", first_update_cell, track=[FirstCell.FakeDatabase],
    expect=Expect(outcomes=[{"FakeDatabase#1.value": 0}], findings={"error"}, deadlock=False))

unlocked_update_program = program(
    "FakeDatabase.update", update_cell, track=[FakeDatabase],
    expect=Expect(outcomes=[{"FakeDatabase#1.value": 1}, {"FakeDatabase#1.value": 2}],
                  findings={"lost-update", "race"}, deadlock=False))

locked_update_program = program(
    "FakeDatabase.locked_update", locked_update_cell, track=[FakeDatabase],
    expect=Expect(outcomes=[{"FakeDatabase#1.value": 2}], findings=set(), deadlock=False))

lock_acquired_twice = program(
    "Lock acquired twice", lock_twice_cell,
    expect=Expect(outcomes=[], findings={"deadlock"}, deadlock=True))

rlock_acquired_twice = program(
    "RLock acquired twice", rlock_twice_cell,  # no deadlock; but the cell never releases it
    expect=Expect(outcomes=[{}], findings={"lock-held-at-exit"}, deadlock=False))


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s: %(message)s", level=logging.INFO, datefmt="%H:%M:%S")
    start_and_join()
    executor_map()
    print(first_update_cell(), update_cell(), locked_update_cell())
