"""The seed notebook's ``FakeDatabase`` as a student writes it: plain methods, a real
``threading.Lock``, run by a ``ThreadPoolExecutor``. The twin of ``fake_database.py``.

The notebook's ``time.sleep(0.1)`` (standing for work) sits where a thread switch
matters; ``time.sleep(0)`` keeps the switch and drops the wait. Unlike the notebook,
``run`` reads every future's result, so an exception in a thread surfaces instead of
leaving the database silently at 0.

>>> run("locked_update")
3
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor


class FakeDatabase:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def update(self, name):
        old = self.value
        time.sleep(0)  # the notebook's work: another thread may run here
        self.value = self.value + (old + 1)
        return name

    def locked_update(self, name):
        with self._lock:
            return self.update(name)


def run(method="update", workers=2):
    """Two updates on a fresh database, as the notebook ran them; returns the final value."""
    database = FakeDatabase()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(getattr(database, method), index) for index in range(workers)]
        for future in futures:
            future.result()  # re-raises what the thread raised: nothing is swallowed
    return database.value
