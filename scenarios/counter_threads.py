"""The lost-update counter as plain threads: the twin of ``counter.py``.

>>> run(locked=True)
2
"""

import threading
import time


class Counter:
    def __init__(self):
        self.x = 0
        self.lock = threading.Lock()

    def increment(self):
        value = self.x
        time.sleep(0)  # ``self.x += 1`` can be switched out right here
        self.x = value + 1

    def locked_increment(self):
        with self.lock:
            self.increment()


def run(locked=False, threads=2):
    """``threads`` threads each increment once; returns the final count."""
    counter = Counter()
    target = counter.locked_increment if locked else counter.increment
    workers = [threading.Thread(target=target) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.x
