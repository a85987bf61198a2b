"""Plain threading code, as its authors wrote it, for bench_peers.py's "plain code" rows.

Standard library only: explorer (through ``explorer.program``) and frontrun's driver (in
its own venv) both import this very file, so the two tools check the same unmodified
classes. ``Counter`` is frontrun's README example ("Sixty seconds: find a race and prove
it"), ``FakeDatabase`` the seed notebook's class (its ``update``, logging and a sleep
between the read and the write included), and ``notebook_cell`` the notebook's cell that
runs two updates through a ``ThreadPoolExecutor``.
"""

import concurrent.futures
import logging
import threading
import time


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        temp = self.value
        self.value = temp + 1


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


def notebook_cell():
    database = FakeDatabase()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        for index in range(2):
            executor.submit(database.update, index)
    return database.value


def updater(name):
    """The worker that calls ``update(name)`` on the shared database."""
    def update(database):
        database.update(name)
    return update
