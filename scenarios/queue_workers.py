"""A worker pool on a ``queue.Queue``: jobs in, one sentinel per worker to say "no more".

The main thread puts the jobs, then one ``None`` per worker, and joins the workers.
Each worker takes items until it takes a ``None``; it adds each job to the shared
total with one atomic ``update`` and calls ``task_done`` for every item, sentinels
included. ``get`` blocks while the queue is empty, so no worker spins; ``put`` on a
full queue (``maxsize=1``) blocks the main thread until a worker makes room. Whichever
worker takes which job, the total is the same.

One sentinel short, one worker never learns that the work is over: it waits in
``get`` on an empty queue that nobody will fill again, and the main thread's
``join`` of that worker never returns, a deadlock.
"""

from functools import partial

from explorer import Expect, Queue, Scenario, get, join, put, task_done, update

JOBS = (1, 2)
WORKERS = ("W1", "W2")


def main(sentinels=len(WORKERS)):
    for job in JOBS:
        yield put("jobs", job)
    for _ in range(sentinels):
        yield put("jobs", None)
    for worker in WORKERS:
        yield join(worker)


def worker():
    while True:
        job = yield get("jobs")
        if job is None:
            yield task_done("jobs")
            return
        yield update("total", lambda total, job=job: total + job)
        yield task_done("jobs")


def _pool(name, sentinels):
    return dict(name=name, variables={"total": 0}, objects={"jobs": Queue(maxsize=1)},
                threads={"main": partial(main, sentinels), **dict.fromkeys(WORKERS, worker)})


queue_workers = Scenario(
    **_pool("queue worker pool", len(WORKERS)),
    expect=Expect(outcomes=[{"total": sum(JOBS)}], findings=set(), deadlock=False),
)

queue_workers_sentinel_short = Scenario(
    **_pool("queue worker pool, one sentinel short", len(WORKERS) - 1),
    expect=Expect(outcomes=[], findings={"deadlock"}, deadlock=True),
)
