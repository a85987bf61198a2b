"""threading.local in plain code: each thread of the program has its own attributes, in
exploration as on real threads (a program's threads share one OS thread, where CPython's
local would have let them share one set)."""

import concurrent.futures
import threading

from explorer import explore, program
from explorer.crosscheck import crosscheck

SEEN = threading.local()  # made at import, with an attribute main has from then on
SEEN.tag = "import"


class Depth(threading.local):  # a subclass defined at import, with an __init__ of its own
    def __init__(self, start=0):
        self.depth = start

    def push(self):
        self.depth += 1
        return self.depth


class Total:
    def __init__(self):
        self.value = 0


def _add_own(total, own, n):
    own.n = own.n + n if hasattr(own, "n") else n
    seen = total.value
    total.value = seen + own.n


def _two_threads(work, *args):
    threads = [threading.Thread(target=work, args=(*args, n)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def made_in_main():
    total, own = Total(), threading.local()
    _two_threads(_add_own, total, own)
    return total.value


def subclass_made_in_main():
    total, depth = Total(), Depth(10)

    def work(n):
        seen = total.value
        total.value = seen + depth.push() * n  # each thread's depth starts at 10 again: 11

    _two_threads(work)
    return total.value


def import_time_local():
    tags = [SEEN.tag]  # main's, from import

    def work(n):
        tags.append(getattr(SEEN, "tag", None))
        SEEN.tag = n

    _two_threads(work)
    SEEN.tag = "main changed it"  # the next run starts from the attribute import gave
    return (tags[0], *sorted(tags[1:], key=str), SEEN.tag)


def pool_worker_keeps_its_locals():
    own = threading.local()

    def task(n):
        own.count = getattr(own, "count", 0) + n
        return own.count

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first, second = pool.submit(task, 1), pool.submit(task, 2)
    return (first.result(), second.result(), hasattr(own, "count"), isinstance(own, threading.local))


def renamed_threads_keep_their_locals():
    own = threading.local()
    own.tag = "main"
    threading.current_thread().name = "renamed"

    def task():
        own.tag = "worker"
        threading.current_thread().name = "busy"
        return own.tag

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        got = pool.submit(task).result()
    return (getattr(own, "tag", None), got)


def _outcomes(main, **options):
    result = explore(program(main.__name__, main, track=[Total]), **options)
    assert not result.errors or {f.kind for f in result.errors} <= {"lost-update"}, result.errors
    return sorted(outcome["main"] for outcome in result.outcomes)


def test_a_local_made_in_main_gives_each_thread_its_own_attributes():
    # shared, exploration said 3 or 6 (the second thread saw the first's n): 6 is impossible
    for strategy in ("exhaustive", "dpor", "stateful", "bounded"):
        assert _outcomes(made_in_main, strategy=strategy) == [1, 2, 3], strategy


def test_a_subclass_defined_at_import_runs_its_init_again_in_each_thread_with_the_local_s_arguments():
    assert _outcomes(subclass_made_in_main, strategy="exhaustive") == [11, 22, 33]


def test_a_local_made_at_import_shows_main_its_attributes_and_other_threads_none_in_every_run():
    assert _outcomes(import_time_local, strategy="exhaustive") == [("import", None, None, "main changed it")]
    assert SEEN.tag == "import"  # and the search leaves it as it found it


def test_tasks_on_one_pool_worker_share_its_locals_and_main_sees_none_of_them():
    assert _outcomes(pool_worker_keeps_its_locals, strategy="exhaustive") == [(1, 3, False, True)]


def test_a_thread_that_renames_itself_keeps_its_locals():
    # they were kept by the thread's name: main's was gone (None), the task's raised
    # AttributeError once its worker was renamed
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert _outcomes(renamed_threads_keep_their_locals, strategy=strategy) == [("main", "worker")]


def test_real_threads_reach_only_the_outcomes_exploration_predicts_for_locals():
    # (a real run's main runs on a thread of its own: it is given main's attributes from import)
    for main in (made_in_main, subclass_made_in_main, import_time_local, pool_worker_keeps_its_locals,
                 renamed_threads_keep_their_locals):
        check = crosscheck(program(main.__name__, main, track=[Total]), runs=60, seed=3)
        assert check.unexpected == [], check.render()
