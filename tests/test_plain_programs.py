"""Plain threading code explored unmodified (``explorer.program``, issue 15).

Each program below is ordinary ``threading``/``queue``/``concurrent.futures``/``time``
code. The tests check what exploring it says against arithmetic done here by hand or by
:func:`orders` (every order of the steps that keeps each thread's own order: an
enumeration that knows nothing of explorer), and check that every complete strategy
(dpor, stateful, bounded with a bound beyond every schedule) says what exhaustive
enumeration says: the same final states, outcomes, finding kinds and deadlock verdict.

Nothing here may make a threading object at module level: every program run from this
file rebinds its module's threading globals (a global ``Lock`` is explored as a lock
named after it), so such objects live in modules of their own (:func:`module_of`).
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import pathlib
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections import Counter
from concurrent.futures import Future

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer import ScenarioError, explore, load_trace, program, replay
from explorer.crosscheck import crosscheck
from scenarios import seed_notebook

from .helpers import examples

LARGE_BOUND = 40  # more preemptions than any program here has steps: bounded search is exhaustive
COMPLETE = ("dpor", "stateful", "bounded")


# ---- the independent arithmetic ----------------------------------------------------------


def orders(chains: dict[str, list[str]], before: tuple = ()) -> list[tuple[str, ...]]:
    """Every order of the steps of ``chains`` (thread -> its steps, in its order) that keeps
    each thread's order and each ``(a, b)`` of ``before`` (a spawn before the spawned
    thread's first step, a thread's last step before its join). Step labels are unique."""
    preds: dict[str, set] = {step: set() for chain in chains.values() for step in chain}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            preds[b].add(a)
    for a, b in before:
        preds[b].add(a)
    found: list[tuple[str, ...]] = []

    def extend(done: set, order: list) -> None:
        if len(order) == len(preds):
            found.append(tuple(order))
            return
        for step, needs in preds.items():
            if step not in done and needs <= done:
                done.add(step)
                order.append(step)
                extend(done, order)
                order.pop()
                done.remove(step)

    extend(set(), [])
    return found


def two_threads_of(steps: list[str], init: int = 1) -> tuple[dict, tuple]:
    """main makes the object (``init`` writes), starts A and B, joins them, reads the
    result; A and B each run ``steps``."""
    chains = {"main": [f"init{n}" for n in range(init)] + ["startA", "startB", "joinA", "joinB", "result"],
              "A": [f"A.{s}" for s in steps], "B": [f"B.{s}" for s in steps]}
    before = (("startA", chains["A"][0]), ("startB", chains["B"][0]),
              (chains["A"][-1], "joinA"), (chains["B"][-1], "joinB"))
    return chains, before


def increments(order: tuple[str, ...], adds: dict[str, int]) -> int:
    """The final value of a counter when each thread reads it (``.read``) and later writes
    what it read plus ``adds[thread]`` (``.write``), in ``order``."""
    value, seen = 0, {}
    for step in order:
        thread, _, what = step.partition(".")
        if what == "read":
            seen[thread] = value
        elif what == "write":
            value = seen[thread] + adds[thread]
    return value


def mutually_exclusive(order: tuple[str, ...], threads=("A", "B")) -> bool:
    """Whether no thread's ``acquire`` .. ``release`` overlaps another's."""
    holder = None
    for step in order:
        thread, _, what = step.partition(".")
        if what == "acquire":
            if holder is not None:
                return False
            holder = thread
        elif what == "release":
            holder = None
    return True


# ---- exploring and comparing ---------------------------------------------------------------


def verdicts(result) -> tuple:
    return (set(result.final_states), set(result.outcomes), result.deadlocked > 0,
            {finding.kind for finding in result.findings})


def explored(scenario, strategy: str = "exhaustive", **options):
    if strategy == "bounded":
        options.setdefault("preemptions", LARGE_BOUND)
    result = explore(scenario, strategy=strategy, **options)
    assert result.complete, (strategy, result.incomplete_reason)
    return result


def states(result) -> dict[str, int]:
    """Final states as text, with how many executions ended in each."""
    return {str(state): n for state, n in result.final_states.items()}


def returns(result, thread: str = "main") -> Counter:
    """What ``thread`` returned, with how many executions it returned it in."""
    counts = Counter()
    for outcome, n in result.outcomes.items():
        counts[outcome[thread]] += n
    return counts


def kinds(result) -> set[str]:
    return {finding.kind for finding in result.findings}


def module_of(name: str, source: str) -> types.ModuleType:
    """A module of its own, made from ``source`` (its globals are made at its import)."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - test code
    return module


# ---- the programs ---------------------------------------------------------------------------


class Score:
    """A counter whose increment reads, then writes: the classic lost update."""

    def __init__(self):
        self.value = 0

    def increment(self):
        self.value = self.value + 1


def two_increments():
    counter = Score()
    workers = [threading.Thread(target=counter.increment) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value


def three_increments():
    score = Score()
    workers = [threading.Thread(target=score.increment) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


class Account:
    """A balance guarded by locks of each kind the program makes."""

    def __init__(self, reentrant=False):
        self.balance = 0
        self._lock = threading.RLock() if reentrant else threading.Lock()

    def deposit(self, amount):
        with self._lock:
            balance = self.balance
            self.balance = balance + amount

    def deposit_twice_locked(self, amount):
        with self._lock:
            self.deposit(amount)  # the RLock taken again by its holder


def locked_deposits():
    account = Account()
    workers = [threading.Thread(target=account.deposit, args=(n,)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return account.balance


def reentrant_deposits():
    account = Account(reentrant=True)
    workers = [threading.Thread(target=account.deposit_twice_locked, args=(n,)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return account.balance


class Mailbox:
    """One slot, filled by a producer and emptied by a consumer, under a condition."""

    def __init__(self, lock=None):
        self.item = None
        self.ready = threading.Condition(lock)

    def fill(self, item):
        with self.ready:
            self.item = item
            self.ready.notify()

    def take(self):
        with self.ready:
            while self.item is None:
                self.ready.wait()
            return self.item


def condition_handoff():
    box = Mailbox()
    consumer = threading.Thread(target=box.take)
    consumer.start()
    box.fill("parcel")
    consumer.join()
    return box.item


class Tally:
    """A shared number, and a log of what the threads saw."""

    def __init__(self):
        self.count = 0
        self.seen = ()

    def bump(self):
        self.count = self.count + 1

    def note(self, what):
        self.seen = self.seen + (what,)


def condition_on_a_shared_lock():
    """Two threads bump under the program's lock and notify_all; a third waits (wait_for)
    on a condition over that same lock until the count reaches 2."""
    tally = Tally()
    lock = threading.Lock()
    reached = threading.Condition(lock)

    def bump():
        with lock:
            tally.bump()
            reached.notify_all()

    def watch():
        with reached:
            reached.wait_for(lambda: tally.count == 2)
            tally.note("saw 2")

    threads = [threading.Thread(target=f) for f in (watch, bump, bump)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def semaphore_counter(permits):
    def main():
        tally = Tally()
        slots = threading.Semaphore(permits)

        def bump():
            with slots:
                tally.bump()

        workers = [threading.Thread(target=bump) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return tally.count
    main.__qualname__ = f"semaphore_counter_{permits}"
    return main


def bounded_semaphore_released_twice():
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    slots.release()
    slots.release()


def semaphore_released_twice():
    slots = threading.Semaphore(1)
    slots.acquire()
    slots.release()
    slots.release()
    return [slots.acquire(blocking=False) for _ in range(3)]


def event_waits():
    """A thread waits for an event with a timeout while main sets it, reads and clears it."""
    tally = Tally()
    go = threading.Event()

    def waiter():
        tally.note(go.wait(timeout=5))

    thread = threading.Thread(target=waiter)
    thread.start()
    go.set()
    was_set = go.is_set()
    go.clear()
    thread.join()
    return was_set, go.is_set()


def event_blocking_wait():
    tally = Tally()
    go = threading.Event()

    def waiter():
        go.wait()
        tally.note(tally.count)

    thread = threading.Thread(target=waiter)
    thread.start()
    tally.count = 1
    go.set()
    thread.join()


def barrier_meeting():
    """Each thread writes its own attribute, meets the other at the barrier, then reads
    the other's: after the barrier, both writes are always seen."""
    tally = Tally()
    meeting = threading.Barrier(2)

    def left():
        tally.count = tally.count  # a read and a write before the barrier
        meeting.wait()
        tally.note("left")

    def right():
        tally.seen = ("right",)
        meeting.wait()
        return tally.count

    threads = [threading.Thread(target=left), threading.Thread(target=right)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def queue_pipeline():
    """A worker takes two items, marking each done; main puts them and joins the queue,
    then a get_nowait on the empty queue raises queue.Empty."""
    tally = Tally()
    work = queue.Queue()

    def worker():
        for _ in range(2):
            tally.note(work.get())
            work.task_done()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    work.put("a")
    work.put("b")
    work.join()
    try:
        work.get_nowait()
    except queue.Empty:
        empty = True
    else:
        empty = False
    return empty


def queue_orders():
    lifo, priority, simple = queue.LifoQueue(), queue.PriorityQueue(), queue.SimpleQueue()
    for item in (2, 3, 1):
        lifo.put(item)
        priority.put(item)
        simple.put(item)
    return ([lifo.get() for _ in range(3)], [priority.get() for _ in range(3)],
            [simple.get() for _ in range(3)], simple.empty())


def threads_alive_and_daemon():
    tally = Tally()
    worker = threading.Thread(target=tally.bump, name="worker", daemon=True)
    before = worker.is_alive()
    worker.start()
    during = worker.is_alive()
    worker.join()
    return before, during, worker.is_alive(), worker.daemon, worker.name


def timer_cancelled():
    tally = Tally()
    timer = threading.Timer(10.0, tally.bump)
    timer.start()
    timer.cancel()
    timer.join()
    return tally.count


def timer_fires():
    tally = Tally()
    timer = threading.Timer(10.0, tally.bump)
    timer.start()
    timer.join()
    return tally.count


def square(n):
    return n * n


def executor_results():
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        future = pool.submit(square, 7)
        value = future.result()
        finished = future.done()
        squares = list(pool.map(square, [2]))
    return value, finished, squares


def executor_shutdown():
    tally = Tally()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(tally.bump)
    early = future.done()
    pool.shutdown(wait=True)
    return early, future.done(), future.result(), future.exception()


def sleepers():
    start = time.monotonic()

    def nap():
        time.sleep(10)

    thread = threading.Thread(target=nap)
    thread.start()
    time.sleep(10)
    time.sleep(5)
    thread.join()
    return time.monotonic() - start


class Shelf:
    """A helper chain between switch points: put -> _stock -> _count, each a plain call."""

    def __init__(self):
        self.items = 0

    def _count(self):
        return self.items

    def _stock(self, n):
        current = self._count()
        self.items = current + n

    def put(self, n):
        self._stock(n)


def nested_calls():
    shelf = Shelf()
    workers = [threading.Thread(target=shelf.put, args=(n,)) for n in (1, 10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return shelf.items


def threads_from_threads():
    tally = Tally()

    def leaf():
        tally.bump()

    def parent():
        child = threading.Thread(target=leaf, name="child")
        child.start()
        leaf()
        child.join()

    thread = threading.Thread(target=parent, name="parent")
    thread.start()
    thread.join()
    return tally.count


class Box:
    def __init__(self):
        self.x = 0
        self.y = 0


def daemon_writes():
    """A daemon thread writes x while main writes y; the program ends with main, so the
    daemon's write happens in some runs and not in others."""
    box = Box()

    def write_x():
        box.x = 1

    threading.Thread(target=write_x, daemon=True).start()
    box.y = 1


def daemon_writes_beside_a_pool():
    """daemon_writes, with main waiting for a task of a pool whose worker then idles: the
    interpreter's exit shuts the pool down and stops the daemon wherever it is."""
    box = Box()

    def write_x():
        box.x = 1

    threading.Thread(target=write_x, daemon=True).start()
    pool = concurrent.futures.ThreadPoolExecutor(1)
    pool.submit(int).result()
    box.y = 1


def napper():
    time.sleep(1)


def alive_after_start():
    worker = threading.Thread(target=napper)
    worker.start()
    return worker.is_alive()


def abba():
    """Two threads take two locks in opposite orders."""
    first, second = threading.Lock(), threading.Lock()

    def forwards():
        with first:
            with second:
                pass

    def backwards():
        with second:
            with first:
                pass

    threads = [threading.Thread(target=forwards, name="A"), threading.Thread(target=backwards, name="B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def abba_in_turn():
    """The same two orders, but B starts only once A has ended: no run deadlocks, and the
    orders are still a cycle that deadlocks when the threads overlap."""
    first, second = threading.Lock(), threading.Lock()

    def forwards():
        with first:
            with second:
                pass

    def backwards():
        with second:
            with first:
                pass

    for body in (forwards, backwards):
        thread = threading.Thread(target=body)
        thread.start()
        thread.join()


class Link:
    def __init__(self):
        self.peer = None


def linking():
    """A thread links one tracked object to another while main unlinks it."""
    first, second = Link(), Link()

    def link():
        first.peer = second

    thread = threading.Thread(target=link)
    thread.start()
    first.peer = None
    thread.join()


class Inventory:
    """A lock and a dict and a list, changed in place under the lock (their item writes are
    not steps; the attributes' reads and writes are)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.stock = {"apple": 1}
        self.sales = []

    def buy(self, who):
        with self._lock:
            if self.stock["apple"] > 0:
                self.stock["apple"] -= 1
                self.sales.append(who)
                return True
            return False


def one_apple_two_buyers():
    shop = Inventory()
    bought = []
    buyers = [threading.Thread(target=lambda who=who: bought.append(shop.buy(who))) for who in ("A", "B")]
    for buyer in buyers:
        buyer.start()
    for buyer in buyers:
        buyer.join()
    return tuple(shop.sales), tuple(sorted(bought))


def locked_while_another_holds_it():
    lock = threading.Lock()

    def holder():
        with lock:
            pass

    thread = threading.Thread(target=holder)
    thread.start()
    seen = lock.locked()  # True only while the holder is inside
    thread.join()
    return seen


#: Programs whose every shared access is tracked or a threading object's: on these every
#: complete strategy must say exactly what exhaustive enumeration says.
PROGRAMS = {
    "two increments": (two_increments, [Score]),
    "locked deposits": (locked_deposits, [Account]),
    "reentrant deposits": (reentrant_deposits, [Account]),
    "condition handoff": (condition_handoff, [Mailbox]),
    "condition on a shared lock": (condition_on_a_shared_lock, [Tally]),
    "semaphore of 1": (semaphore_counter(1), [Tally]),
    "semaphore of 2": (semaphore_counter(2), [Tally]),
    "bounded semaphore released twice": (bounded_semaphore_released_twice, []),
    "semaphore released twice": (semaphore_released_twice, []),
    "event waits": (event_waits, [Tally]),
    "event blocking wait": (event_blocking_wait, [Tally]),
    "barrier meeting": (barrier_meeting, [Tally]),
    "queue pipeline": (queue_pipeline, [Tally]),
    "queue orders": (queue_orders, []),
    "threads alive and daemon": (threads_alive_and_daemon, [Tally]),
    "timer cancelled": (timer_cancelled, [Tally]),
    "timer fires": (timer_fires, [Tally]),
    "executor results": (executor_results, []),
    "executor shutdown": (executor_shutdown, [Tally]),
    "sleepers": (sleepers, []),
    "nested calls": (nested_calls, [Shelf]),
    "threads from threads": (threads_from_threads, [Tally]),
    "daemon writes": (daemon_writes, [Box]),
    "alive after start": (alive_after_start, []),
    "abba": (abba, []),
    "abba in turn": (abba_in_turn, []),
    "linking": (linking, [Link]),
    "one apple, two buyers": (one_apple_two_buyers, [Inventory]),
    "locked while another holds it": (locked_while_another_holds_it, []),
}


def scenario_of(name: str):
    main, track = PROGRAMS[name]
    return program(name, main, track=track)


# ---- every complete strategy agrees with exhaustive enumeration ----------------------------------


@pytest.mark.parametrize("strategy", COMPLETE)
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_every_complete_strategy_gives_exhaustive_enumerations_verdicts_on_plain_code(name, strategy):
    scenario = scenario_of(name)
    assert verdicts(explored(scenario, strategy)) == verdicts(explored(scenario))


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_bounded_search_beyond_every_schedule_runs_exactly_exhaustive_enumerations_schedules(name):
    scenario = scenario_of(name)
    exhaustive, bounded = explored(scenario), explored(scenario, "bounded")
    assert bounded.executions == exhaustive.executions
    assert bounded.final_states == exhaustive.final_states and bounded.outcomes == exhaustive.outcomes


def test_a_dict_and_a_list_changed_in_place_under_a_lock_are_no_nondeterminism():
    # Found by a review: the attributes' values were logged as the objects, which the
    # program changes in place after the step, so the next run's step looked different
    for strategy in ("exhaustive",) + COMPLETE:
        result = explored(scenario_of("one apple, two buyers"), strategy)
        assert not result.findings, strategy
        assert {outcome["main"] for outcome in result.outcomes} == {(("A",), (False, True)),
                                                                    (("B",), (False, True))}


def test_dpor_sees_lock_locked_both_before_and_inside_another_threads_hold():
    # Found by a review: dpor never ran the holder's acquire before a locked() that ran first
    for strategy in ("exhaustive",) + COMPLETE:
        result = explored(scenario_of("locked while another holds it"), strategy)
        assert {outcome["main"] for outcome in result.outcomes} == {False, True}, strategy


# ---- Thread, Lock, RLock ---------------------------------------------------------------------------


def test_two_threads_incrementing_unlocked_lose_an_update_in_9_of_19_interleavings():
    chains, before = two_threads_of(["read", "write"])
    every = orders(chains, before)
    by_value = Counter(increments(order, {"A": 1, "B": 1}) for order in every)
    assert (len(every), by_value) == (19, Counter({2: 10, 1: 9}))

    result = explored(program("two increments", two_increments, track=[Score]))
    assert result.executions == len(every) and result.steps == 10 * len(every)
    assert states(result) == {"Score#1.value=2": 10, "Score#1.value=1": 9}
    assert returns(result) == Counter({2: 10, 1: 9})
    assert "lost-update" in kinds(result)
    (lost,) = [f for f in result.findings if f.kind == "lost-update"]
    assert "Score#1.value" in lost.message


def test_three_threads_incrementing_unlocked_end_at_3_2_or_1_in_184_610_and_327_of_1121_interleavings():
    chains = {"main": ["init", "startA", "startB", "startC", "joinA", "joinB", "joinC"],
              **{t: [f"{t}.read", f"{t}.write"] for t in "ABC"}}
    before = [(f"start{t}", f"{t}.read") for t in "ABC"] + [(f"{t}.write", f"join{t}") for t in "ABC"]
    every = orders(chains, before)
    by_value = Counter(increments(order, {"A": 1, "B": 1, "C": 1}) for order in every)
    assert (len(every), by_value) == (1121, Counter({3: 184, 2: 610, 1: 327}))

    result = explored(program("three increments", three_increments, track=[Score]))
    assert result.executions == len(every)
    assert states(result) == {f"Score#1.value={v}": n for v, n in by_value.items()}


def test_a_lock_made_in_the_program_keeps_every_deposit_in_exactly_the_mutually_exclusive_orders():
    # Account() writes balance and _lock; each deposit reads _lock, then acquire, read, write, release
    chains, before = two_threads_of(["lock", "acquire", "read", "write", "release"], init=2)
    every = orders(chains, before)
    exclusive = [order for order in every if mutually_exclusive(order)]
    assert (len(every), len(exclusive)) == (923, 118)
    result = explored(program("locked deposits", locked_deposits, track=[Account]))
    assert result.executions == len(exclusive)
    assert states(result) == {"Account#1.balance=3": len(exclusive)}
    assert result.findings == []


def test_an_rlock_taken_again_by_its_holder_neither_deadlocks_nor_loses_a_deposit():
    # the outer with reads _lock and acquires; deposit() reads _lock and acquires again, reads
    # and writes the balance, releases; the outer with releases
    chains, before = two_threads_of(["lock", "acquire", "lock2", "acquire2", "read", "write", "release2",
                                     "release"], init=2)
    exclusive = [order for order in orders(chains, before) if mutually_exclusive(order)]
    result = explored(program("reentrant deposits", reentrant_deposits, track=[Account]))
    assert result.executions == len(exclusive)
    assert result.deadlocked == 0 and result.findings == []
    assert states(result) == {"Account#1.balance=3": len(exclusive)}


def test_a_plain_lock_taken_again_by_its_holder_deadlocks_with_the_thread_waiting_on_itself():
    def main():
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()

    result = explored(program("lock twice", main))
    assert (result.executions, result.deadlocked) == (1, 1)
    (deadlock,) = result.deadlocks
    assert deadlock.cycle == ["main", "main"] and "Lock#1" in deadlock.message


def test_lock_acquire_without_blocking_reports_whether_it_got_the_lock():
    def main():
        lock = threading.Lock()
        first = lock.acquire(blocking=False)
        second = lock.acquire(blocking=False)
        lock.release()
        third = lock.acquire(blocking=False)
        lock.release()
        return first, second, third

    result = explored(program("try lock", main))
    assert returns(result) == Counter({(True, False, True): 1})
    assert result.findings == []


def test_lock_locked_says_whether_the_lock_is_held_and_never_waits():
    def main():
        lock = threading.Lock()
        before = lock.locked()
        lock.acquire()
        during = lock.locked()
        lock.release()
        return before, during

    result = explored(program("locked", main))
    assert result.deadlocked == 0
    assert returns(result) == Counter({(False, True): 1})


# ---- Condition -----------------------------------------------------------------------------------


def test_a_condition_with_its_own_lock_hands_the_item_over_in_every_interleaving():
    result = explored(program("condition handoff", condition_handoff, track=[Mailbox]))
    assert set(states(result)) == {"Mailbox#1.item='parcel'"}
    assert result.executions > 1 and result.deadlocked == 0 and result.findings == []


def test_wait_for_on_a_condition_over_a_shared_lock_wakes_only_when_both_bumps_are_done():
    result = explored(program("condition on a shared lock", condition_on_a_shared_lock, track=[Tally]))
    assert set(states(result)) == {"Tally#1.count=2, Tally#1.seen=('saw 2',)"}
    assert result.deadlocked == 0 and result.findings == []


def test_notify_before_anyone_waits_is_lost_and_a_wait_without_timeout_then_deadlocks():
    def main():
        ready = threading.Condition()
        with ready:
            ready.notify()
        with ready:
            ready.wait()

    result = explored(program("notify first", main))
    assert result.deadlocked == result.executions == 1
    assert kinds(result) == {"deadlock"}


def test_a_condition_wait_with_a_timeout_nobody_notifies_returns_false():
    def main():
        ready = threading.Condition()
        with ready:
            return ready.wait(timeout=2)

    assert returns(explored(program("wait timeout", main))) == Counter({False: 1})


def test_wait_for_with_a_timeout_on_a_predicate_nobody_makes_true_returns_false():
    def main():
        ready = threading.Condition()
        with ready:
            return ready.wait_for(lambda: False, timeout=1)

    result = explore(program("wait_for timeout", main), strategy="exhaustive", max_steps=200)
    assert "max-steps" not in kinds(result)
    assert returns(result) == Counter({False: 1})


def notify_once_both_wait_a_while():
    ready = threading.Condition(threading.Lock())
    state = {"waiting": 0, "got": []}

    def timed():
        with ready:
            state["waiting"] += 1
            woken = ready.wait(timeout=0.05)
            state["waiting"] -= 1
            state["got"].append(woken)

    def notifier():
        with ready:
            if state["waiting"] == 2:
                ready.notify()

    threads = [threading.Thread(target=timed), threading.Thread(target=timed), threading.Thread(target=notifier)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tuple(sorted(state["got"]))


def test_a_timed_wait_may_use_up_a_notify_after_its_timeout_fired_or_be_woken_by_it_in_plain_code():
    # the notifier sees both threads waiting: its notify wakes one (True), or goes to a
    # waiter whose timeout fired and has not re-taken the lock yet (CPython leaves it in the
    # queue until then), and both waits return False; dpor missed the first (found while
    # splitting a timed wait in two)
    plain = program("notify once both wait", notify_once_both_wait_a_while)
    for strategy in ("dpor", "stateful"):
        assert set(returns(explore(plain, strategy=strategy))) == {(False, False), (False, True)}, strategy


def test_code_that_catches_the_runtime_error_of_releasing_an_unheld_lock_goes_on_as_on_real_threads():
    def main():
        lock = threading.Lock()
        try:
            lock.release()
        except RuntimeError as error:
            return f"caught: {error}"
        return "released"

    for strategy in ("dpor", "stateful", "exhaustive"):
        result = explore(program("caught release", main), strategy=strategy)
        assert returns(result) == Counter({"caught: release unlocked lock": 1}), strategy
        assert result.failed == 0 and result.findings == [], strategy


# ---- Semaphore, BoundedSemaphore ---------------------------------------------------------------


def test_a_semaphore_of_one_permit_excludes_and_one_of_two_lets_an_update_be_lost():
    one = explored(program("semaphore of 1", semaphore_counter(1), track=[Tally]))
    two = explored(program("semaphore of 2", semaphore_counter(2), track=[Tally]))
    assert returns(one).keys() == {2} and "lost-update" not in kinds(one)
    assert returns(two).keys() == {1, 2} and "lost-update" in kinds(two)


def test_releasing_a_bounded_semaphore_past_its_value_is_an_error_finding():
    result = explored(program("over-release", bounded_semaphore_released_twice))
    assert (result.executions, result.failed) == (1, 1)
    (error,) = [f for f in result.findings if f.kind == "error"]
    assert "BoundedSemaphore#1" in error.message and "released too many times" in error.message
    assert error.thread == "main"


def test_releasing_a_plain_semaphore_past_its_value_adds_a_permit():
    result = explored(program("plain over-release", semaphore_released_twice))
    assert result.findings == []
    assert returns(result) == Counter({(True, True, False): 1})


# ---- Event ---------------------------------------------------------------------------------------


def test_an_event_wait_with_a_timeout_returns_true_when_set_first_and_may_time_out_otherwise():
    result = explored(program("event waits", event_waits, track=[Tally]))
    assert {dict(state)["Tally#1.seen"] for state in result.final_states} == {(True,), (False,)}
    assert returns(result).keys() == {(True, False)}  # is_set after set, and after clear
    assert result.findings == []


def test_an_event_wait_without_timeout_always_sees_what_was_written_before_set():
    result = explored(program("event blocking wait", event_blocking_wait, track=[Tally]))
    assert {dict(state)["Tally#1.seen"] for state in result.final_states} == {(1,)}
    assert "race" not in kinds(result) and result.deadlocked == 0


def test_waiting_on_an_event_nobody_sets_deadlocks():
    def main():
        threading.Event().wait()

    result = explored(program("never set", main))
    assert result.deadlocked == 1 and kinds(result) == {"deadlock"}


# ---- Barrier -------------------------------------------------------------------------------------


def test_after_a_barrier_each_thread_sees_what_the_other_wrote_before_it():
    result = explored(program("barrier meeting", barrier_meeting, track=[Tally]))
    assert set(states(result)) == {"Tally#1.count=0, Tally#1.seen=('right', 'left')"}
    assert "race" not in kinds(result)


def test_a_barrier_one_party_short_deadlocks():
    def main():
        threading.Barrier(2).wait()

    assert explored(program("one short", main)).deadlocked == 1


def _barrier_program(make, parties=2):
    """``parties`` threads wait at the barrier ``make()`` gives; what each saw, sorted, and
    the barrier's counters after."""
    def main():
        barrier, seen = make(), []

        def work():
            try:
                barrier.wait()
                seen.append("passed")
            except threading.BrokenBarrierError:
                seen.append("broken")
            except ValueError as error:
                seen.append(f"action raised {error}")
        threads = [threading.Thread(target=work) for _ in range(parties)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return (tuple(sorted(seen)), barrier.broken, barrier.n_waiting)
    return main


def _raises():
    raise ValueError("in the action")


def test_a_barrier_s_action_runs_once_before_anyone_passes_and_one_that_raises_breaks_it():
    # they said "not modelled"; CPython runs the action in the last thread to arrive, under
    # the barrier's lock: if it raises, that thread gets the error and the others BrokenBarrierError
    passes = []
    ran = program("barrier action", _barrier_program(lambda: threading.Barrier(2, action=lambda: passes.append(1))))
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert returns(explored(ran, strategy=strategy)).keys() == {(("passed", "passed"), False, 0)}
    raising = program("barrier action raises", _barrier_program(lambda: threading.Barrier(2, action=_raises)))
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert returns(explored(raising, strategy=strategy)).keys() == {
            (("action raised in the action", "broken"), True, 0)}


def test_a_barrier_s_timeout_may_run_out_before_it_fills_and_breaks_it_for_every_waiter():
    timed = program("barrier timeout", _barrier_program(lambda: threading.Barrier(2, timeout=0.5)))
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert returns(explored(timed, strategy=strategy)).keys() == {
            (("passed", "passed"), False, 0), (("broken", "broken"), True, 0)}
    check = crosscheck(timed, runs=100, seed=4)
    assert check.unexpected == [], check.render()


def _reset_or_abort(what):
    def main():
        barrier, seen = threading.Barrier(2), []

        def work():
            try:
                barrier.wait()
                seen.append("passed")
            except threading.BrokenBarrierError:
                seen.append("broken")
        waiter = threading.Thread(target=work)
        waiter.start()
        getattr(barrier, what)()  # before or after the waiter arrives
        if what == "abort":
            waiter.join()
        else:
            waiter.join(timeout=1)  # a waiter the reset missed waits on: the join gives up
        return (tuple(seen), barrier.broken)
    return main


def test_a_barrier_s_reset_breaks_its_waiters_and_leaves_it_whole_and_abort_breaks_it_for_good():
    # they said "not modelled"
    reset = program("barrier reset", _reset_or_abort("reset"))
    aborted = program("barrier abort", _reset_or_abort("abort"))
    for strategy in ("exhaustive", "dpor", "stateful"):
        # the waiter had arrived (broken), or not yet (it waits alone, the join gives up);
        # after an abort it is broken whenever it arrives
        assert returns(explore(reset, strategy=strategy)).keys() == {(("broken",), False), ((), False)}, strategy
        assert returns(explore(aborted, strategy=strategy)).keys() == {(("broken",), True)}, strategy


def _abort_after_passing():
    barrier, seen = threading.Barrier(2), []

    def work():
        try:
            seen.append(barrier.wait())
        except threading.BrokenBarrierError:
            seen.append("broken")
    waiter = threading.Thread(target=work)
    waiter.start()
    mine = barrier.wait()
    barrier.abort()  # the waiter, let go by main's arrival, may not have left yet
    waiter.join()
    return (mine, seen[0])


def test_an_abort_just_after_the_last_arrival_breaks_the_waiter_that_has_not_left_yet():
    # CPython's waiter sees the state when it wakes: broken, though the barrier had let it go;
    # the model let every departure of a released generation pass, and crosscheck said
    # MODEL IS WRONG on (1, 'broken'), which nearly every real run gives
    scenario = program("abort after passing", _abort_after_passing)
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert returns(explored(scenario, strategy=strategy)).keys() == {(0, 1), (1, 0), (1, "broken")}, strategy
    check = crosscheck(scenario, runs=100, seed=3)
    assert check.unexpected == [], check.render()


class Written:
    def __init__(self):
        self.value = 0


def _timed_waiter_and_action():
    box, ran = Written(), []
    barrier = threading.Barrier(2, action=lambda: ran.append(box.value), timeout=1)

    def work():
        box.value = 1
        try:
            return barrier.wait()
        except threading.BrokenBarrierError:
            return "broken"
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waiter = pool.submit(work)
        try:
            mine = barrier.wait()
        except threading.BrokenBarrierError:
            mine = "broken"
    return (mine, waiter.result(), tuple(ran))


def test_a_barrier_s_action_runs_under_its_lock_and_sees_what_every_party_did_before_arriving():
    # while the action runs nobody leaves, so a waiter's timeout cannot break the barrier then
    # (the model let it: (1, 'broken', (1,)), which threading never gives); the thread that
    # runs the action knows what the others did before they arrived (no race on box.value:
    # the model reported one, the releaser not taking in the others' arrivals)
    scenario = program("timed waiter and action", _timed_waiter_and_action, track=[Written])
    for strategy in ("exhaustive", "dpor", "stateful"):
        result = explored(scenario, strategy=strategy)
        assert returns(result).keys() == {(1, 0, (1,)), (0, 1, (1,)), ("broken", "broken", ())}, strategy
        assert not result.findings, strategy


# ---- queues --------------------------------------------------------------------------------------


def test_a_queue_joined_after_task_done_has_handed_both_items_over_and_get_nowait_raises_empty():
    result = explored(program("queue pipeline", queue_pipeline, track=[Tally]))
    assert set(states(result)) == {"Tally#1.count=0, Tally#1.seen=('a', 'b')"}
    assert returns(result).keys() == {True}
    assert result.findings == [] and result.deadlocked == 0


def test_lifo_priority_and_simple_queues_hand_items_back_in_their_own_orders():
    result = explored(program("queue orders", queue_orders))
    assert returns(result) == Counter({((1, 3, 2), (1, 2, 3), (2, 3, 1), True): 1})


def test_a_get_with_a_timeout_may_time_out_before_the_put_and_raise_empty():
    def main():
        tally = Tally()
        items = queue.Queue()

        def consume():
            try:
                tally.count = items.get(timeout=1)
            except queue.Empty:
                tally.count = -1

        thread = threading.Thread(target=consume)
        thread.start()
        items.put(5)
        thread.join()

    result = explored(program("get timeout", main, track=[Tally]))
    assert {dict(state)["Tally#1.count"] for state in result.final_states} == {5, -1}


def test_a_bounded_queue_blocks_the_second_put_until_a_get_and_full_says_so():
    def main():
        tally = Tally()
        items = queue.Queue(maxsize=1)

        def produce():
            items.put(1)
            items.put(2)

        thread = threading.Thread(target=produce)
        thread.start()
        full = items.full()
        tally.seen = (items.get(), items.get())
        thread.join()
        return full

    result = explored(program("bounded queue", main, track=[Tally]))
    assert {dict(state)["Tally#1.seen"] for state in result.final_states} == {(1, 2)}
    assert returns(result).keys() == {True, False} and result.deadlocked == 0


def test_joining_a_queue_whose_item_is_never_marked_done_deadlocks_naming_the_queue():
    def main():
        items = queue.Queue()
        thread = threading.Thread(target=items.get)
        thread.start()
        items.put(1)
        items.join()

    result = explored(program("no task_done", main))
    assert result.deadlocked == result.executions
    (deadlock,) = result.deadlocks
    assert "Queue#1" in deadlock.message


# ---- Thread details, Timer -----------------------------------------------------------------------


def test_a_thread_is_alive_only_between_start_and_end_and_keeps_its_name_and_daemon_flag():
    result = explored(program("alive", threads_alive_and_daemon, track=[Tally]))
    # before start: not alive; after start: alive or already done; after join: not alive
    assert returns(result).keys() == {(False, True, False, True, "worker"),
                                      (False, False, False, True, "worker")}
    assert "worker" in next(iter(result.outcomes))


def test_two_threads_given_one_name_keep_it_and_are_told_apart_in_traces_as_name_and_name_2():
    def main():
        score = Score()
        workers = [threading.Thread(target=score.increment, name="W") for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return [worker.name for worker in workers]

    result = explored(program("same names", main, track=[Score]))
    assert returns(result) == Counter({("W", "W"): 19})
    assert set(next(iter(result.outcomes))) == {"Score#1.value", "main", "W", "W#2"}


def test_a_join_with_a_timeout_may_return_while_the_thread_still_runs():
    def main():
        tally = Tally()
        worker = threading.Thread(target=tally.bump)
        worker.start()
        worker.join(timeout=0.5)
        return worker.is_alive()

    result = explored(program("timed join", main, track=[Tally]))
    assert returns(result).keys() == {True, False}
    assert set(states(result)) == {"Tally#1.count=1, Tally#1.seen=()"}  # the run waits for it at the end


def test_threads_are_named_as_threading_names_them():
    result = explored(program("two increments", two_increments, track=[Score]))
    assert set(next(iter(result.outcomes))) == {"Score#1.value", "main", "Thread-1 (increment)",
                                                "Thread-2 (increment)"}


def test_a_thread_whose_target_is_a_threading_method_is_named_after_threadings_own_method():
    # Found while crosschecking an Event made at import: Thread(target=done.set) was
    # "Thread-1 (set_)" in exploration, the patched method's name, and "Thread-1 (set)" on
    # real threads, so every real outcome was UNEXPECTED
    def main():
        done, sem, q, barrier = threading.Event(), threading.Semaphore(0), queue.Queue(), threading.Barrier(1)
        threads = [threading.Thread(target=done.set), threading.Thread(target=sem.release),
                   threading.Thread(target=q.put, args=(1,)), threading.Thread(target=barrier.reset)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [thread.name for thread in threads]

    (names,) = returns(explored(program("targets", main)))
    assert list(names) == ["Thread-1 (set)", "Thread-2 (release)", "Thread-3 (put)", "Thread-4 (reset)"]


def test_the_deprecated_isSet_and_notifyAll_are_threadings_own_names_and_warn_as_threading_does():
    # they were the new names under the old ones: Thread(target=event.isSet) was
    # "Thread-1 (is_set)", and neither warned
    def main():
        event, condition = threading.Event(), threading.Condition()
        thread = threading.Thread(target=event.isSet)
        thread.start()
        thread.join()
        with condition:
            condition.notifyAll()
        return thread.name, event.isSet()

    def unlocked():
        thread = threading.Thread(target=threading.Condition().notifyAll)
        thread.start()
        thread.join()

    with pytest.warns(DeprecationWarning) as warned:
        result = explored(program("deprecated", main))
    assert {str(warning.message).split("(")[0] for warning in warned} == {"isSet", "notifyAll"}
    assert returns(result).keys() == {("Thread-1 (isSet)", False)}
    with pytest.warns(DeprecationWarning):
        (error,) = [f for f in explored(program("unlocked", unlocked)).findings if f.kind == "error"]
    assert "thread Thread-1 (notifyAll)" in error.message and "un-acquired lock" in error.message


class Incrementer(threading.Thread):
    """A Thread subclass that overrides run()."""

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def run(self):
        self.counter.increment()


def test_a_thread_subclass_that_overrides_run_loses_an_update_like_a_target_does():
    def main():
        counter = Score()
        workers = [Incrementer(counter) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return counter.value

    result = explored(program("subclass", main, track=[Score]))
    assert returns(result) == Counter({2: 10, 1: 9})  # as two_increments, by orders()
    assert set(next(iter(result.outcomes))) >= {"Thread-1", "Thread-2"}


def test_current_thread_is_the_thread_the_pool_worker_or_the_main_thread_by_name():
    def main():
        tally = Tally()

        def who():
            tally.note(threading.current_thread().name)

        thread = threading.Thread(target=who, name="W")
        thread.start()
        thread.join()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(who).result()
        who()

    result = explored(program("names", main, track=[Tally]))
    assert {dict(state)["Tally#1.seen"] for state in result.final_states} == {
        ("W", "ThreadPoolExecutor-0_0", "MainThread")}


def test_a_run_that_renames_its_main_thread_leaves_the_next_run_s_main_named_mainthread():
    def main():
        tally = Tally()
        worker = threading.Thread(target=tally.bump)
        worker.start()
        tally.bump()
        worker.join()
        here = threading.current_thread()
        name = here.name
        here.name = name + "!"
        return name

    # main's handle is one for every run: each run saw the last one's name, 'MainThread!!...'
    # (outcomes of their own, which real threads never give)
    result = explored(program("renames main", main, track=[Tally]))
    assert returns(result).keys() == {"MainThread"}


def test_a_thread_the_program_names_as_a_pool_s_worker_is_another_thread_than_the_worker():
    def main():
        tally = Tally()

        def who():
            tally.bump()
            return threading.current_thread().name

        thread = threading.Thread(target=who, name="ThreadPoolExecutor-0_0")
        thread.start()  # before the pool's worker, or after it (below)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            named = pool.submit(who).result()
            later = threading.Thread(target=who, name="ThreadPoolExecutor-0_0")
            later.start()
            later.join()
        thread.join()
        return named

    # one name was one thread to the engine: main waited for the worker's end, which never
    # comes (a deadlock real threads never show)
    for strategy in ("exhaustive", "dpor", "stateful"):
        result = explored(program("named as a worker", main, track=[Tally]), strategy)
        assert not result.deadlocked and returns(result).keys() == {"ThreadPoolExecutor-0_0"}, strategy
        assert {dict(state)["Tally#1.count"] for state in result.final_states} >= {3}


def test_each_thread_has_its_own_ident_as_threading_gives_it():
    def main():
        tally = Tally()

        def who():
            here = threading.current_thread()
            tally.note((threading.get_ident(), here.ident))

        for _ in range(2):  # one after the other: no update of seen is lost
            worker = threading.Thread(target=who)
            worker.start()
            worker.join()
        who()
        seen = tally.seen
        return len({ident for ident, _ in seen}), len({ident for _, ident in seen}), None in seen[0]

    result = explored(program("idents", main, track=[Tally]))
    assert returns(result).keys() == {(3, 3, False)}  # three threads, three idents each way


def test_releasing_an_rlock_held_by_another_thread_is_an_error_finding():
    def main():
        lock = threading.RLock()
        lock.acquire()
        thread = threading.Thread(target=lock.release, name="stranger")
        thread.start()
        thread.join()

    result = explored(program("foreign release", main))
    (error,) = [f for f in result.findings if f.kind == "error"]
    assert error.thread == "stranger" and "RLock#1" in error.message and "cannot release" in error.message


def test_a_semaphore_acquire_with_a_timeout_gets_the_permit_or_gives_up():
    def main():
        tally = Tally()
        permits = threading.Semaphore(0)

        def take():
            tally.count = permits.acquire(timeout=1)

        thread = threading.Thread(target=take)
        thread.start()
        permits.release()
        thread.join()

    result = explored(program("semaphore timeout", main, track=[Tally]))
    assert {dict(state)["Tally#1.count"] for state in result.final_states} == {True, False}


def test_a_timer_left_alone_fires_once_and_a_cancelled_one_fires_only_if_its_wait_ran_out_first():
    fired = explored(program("timer fires", timer_fires, track=[Tally]))
    assert returns(fired) == Counter({1: fired.executions})
    cancelled = explored(program("timer cancelled", timer_cancelled, track=[Tally]))
    assert returns(cancelled).keys() == {0, 1}


# ---- ThreadPoolExecutor and futures --------------------------------------------------------------


def test_an_executor_gives_each_future_its_result_and_map_its_results_in_order():
    result = explored(program("executor results", executor_results))
    assert returns(result).keys() == {(49, True, (4,))}  # the list, frozen
    assert result.findings == []


def test_shutdown_waits_for_the_tasks_so_their_futures_are_done_after_it():
    result = explored(program("executor shutdown", executor_shutdown, track=[Tally]))
    assert returns(result).keys() == {(True, True, None, None), (False, True, None, None)}
    assert set(states(result)) == {"Tally#1.count=1, Tally#1.seen=()"}


def fails(n):
    raise KeyError(n)


def test_a_tasks_exception_nobody_reads_is_an_error_finding_naming_the_task():
    def main():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(fails, 7)

    result = explored(program("unread", main))
    (error,) = [f for f in result.findings if f.kind == "error"]
    assert "ThreadPoolExecutor-0#1" in error.message and "KeyError" in error.message
    assert "fails(7)" in error.message


def test_a_task_is_shown_as_the_call_it_is_not_as_a_call_of_that_call():
    def main():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(fails, 7)

    (error,) = explored(program("unread", main)).errors
    assert "fails(7)()" not in error.message, error.message


def test_a_tasks_exception_read_through_result_or_exception_is_no_finding():
    def caught():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(fails, 7)
            try:
                future.result()
            except KeyError as error:
                return error.args

    def asked():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return repr(pool.submit(fails, 7).exception())

    by_result, by_exception = explored(program("caught", caught)), explored(program("asked", asked))
    assert (returns(by_result), by_result.findings) == (Counter({(7,): 1}), [])
    assert (returns(by_exception), by_exception.findings) == (Counter({"KeyError(7)": 1}), [])


# ---- virtual time --------------------------------------------------------------------------------


def test_a_program_that_sleeps_ten_seconds_explores_at_once_and_monotonic_moves_by_its_sleeps_only():
    started = time.perf_counter()
    result = explored(program("sleepers", sleepers))
    assert time.perf_counter() - started < 5
    assert returns(result) == Counter({15.0: result.executions})
    # main starts the napper, sleeps twice and joins it; the napper sleeps once
    every = orders({"main": ["start", "sleep10", "sleep5", "join"], "napper": ["sleep"]},
                   (("start", "sleep"), ("sleep", "join")))
    assert result.executions == len(every) == 3


def test_a_join_with_a_timeout_moves_the_clock_to_its_deadline_at_most_and_just_past_it_when_it_gives_up():
    def main():
        sleeper = threading.Thread(target=time.sleep, args=(10,))
        sleeper.start()
        sleeper.join(timeout=1)
        return time.monotonic()

    # the sleeper may end first (exploration lets it, however long it sleeps): the join ends
    # by its deadline; or the join gives up, and ends after it, as a real one does
    assert set(returns(explored(program("timed join", main)))) == {1.0, math.nextafter(1.0, math.inf)}


def test_joining_threads_and_waiting_for_tasks_moves_the_clock_to_when_they_ended_as_real_time_does():
    def main():
        start = time.monotonic()
        sleepers = [threading.Thread(target=time.sleep, args=(1,)) for _ in range(3)]
        for thread in sleepers:
            thread.start()
        for thread in sleepers:
            thread.join()
        joined = time.monotonic() - start
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            pool.submit(time.sleep, 2).result()
            result = time.monotonic() - start
            pool.submit(time.sleep, 4)
            pool.submit(time.sleep, 1)
        shut = time.monotonic() - start
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # one worker: the tasks queue
            pool.submit(time.sleep, 1)
            pool.submit(time.sleep, 1)
        return joined, result, shut, time.monotonic() - start

    # as real threads: 1, 3, 7 and 9 s; time does not order the steps, so one worker may
    # also take both the 4 s and the 1 s task before the other starts (8 and 10 s)
    assert set(returns(explored(program("joined sleepers", main), "dpor"))) == {(1.0, 3.0, 7.0, 9.0),
                                                                                (1.0, 3.0, 8.0, 10.0)}


def test_time_time_is_the_search_start_plus_the_threads_sleeps():
    def main():
        before = time.time()
        time.sleep(60)
        return time.time() - before

    assert returns(explored(program("wall clock", main))) == Counter({60.0: 1})


# ---- tracked attributes ----------------------------------------------------------------------------


class WithProperty:
    def __init__(self):
        self._level = 0

    @property
    def level(self):
        return self._level

    @level.setter
    def level(self, value):
        self._level = value


class Slotted:
    __slots__ = ("level",)

    def __init__(self):
        self.level = 0


class Base:
    limit = 5

    def __init__(self):
        self.level = 0


class Sub(Base):
    def raise_level(self):
        if self.level < self.limit:
            self.level = self.level + 1


def raise_twice(make):
    def main():
        obj = make()

        def work():
            obj.level = obj.level + 1

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return main


@pytest.mark.parametrize("cls, variable", [(WithProperty, "WithProperty#1._level"),
                                           (Slotted, "Slotted#1.level"),
                                           (Sub, "Sub#1.level")])
def test_a_tracked_attribute_behind_a_property_a_slot_or_a_base_class_loses_an_update_like_any(cls, variable):
    track = [Base] if cls is Sub else [cls]  # the base class tracked, the subclass instantiated
    result = explored(program(cls.__name__, raise_twice(cls), track=track))
    assert states(result) == {f"{variable}=2": 10, f"{variable}=1": 9}  # as two_increments, by orders()
    assert "lost-update" in kinds(result)


def test_a_class_variable_read_through_an_instance_is_a_read_of_the_value_the_class_holds():
    def main():
        obj = Sub()
        obj.raise_level()
        return obj.level

    result = explored(program("class variable", main, track=[Base]))
    assert returns(result) == Counter({1: 1})
    events = result_trace(program("class variable", main, track=[Base]))
    reads = [e for e in events if e.target == "Sub#1.limit"]
    assert len(reads) == 1 and reads[0].kind == "read"
    assert reads[0].value == 5, reads[0].describe()


def result_trace(scenario):
    """The events of the one schedule of a single-threaded program."""
    return replay(scenario, ["main"], extend=True).events


def test_a_class_variable_read_through_an_instance_by_two_threads_keeps_both_below_the_limit():
    def main():
        obj = Sub()
        workers = [threading.Thread(target=obj.raise_level) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    chains, before = two_threads_of(["read", "limit", "reread", "write"])
    every = orders(chains, before)
    # the write is computed from the re-read, the last read before it
    final = Counter(increments(tuple(s.replace("reread", "read") for s in order if not s.endswith(
        (".read", ".limit"))), {"A": 1, "B": 1}) for order in every)
    result = explored(program("class variable, two threads", main, track=[Base]))
    assert result.executions == len(every)
    assert {int(k.rpartition("=")[2]): n for k, n in states(result).items()} == dict(final)


def test_nested_calls_between_switch_points_each_step_at_its_own_access():
    chains, before = two_threads_of(["read", "write"])
    every = orders(chains, before)
    final = Counter(increments(order, {"A": 1, "B": 10}) for order in every)
    result = explored(program("nested calls", nested_calls, track=[Shelf]))
    assert result.executions == len(every) == 19
    assert {int(k.rpartition("=")[2]): n for k, n in states(result).items()} == dict(final)
    assert set(final) == {11, 10, 1}


def test_a_thread_started_by_a_thread_is_explored_and_named_by_its_name():
    result = explored(program("threads from threads", threads_from_threads, track=[Tally]))
    # parent's read and write interleave with child's: C(4, 2) orders, 2 of them serial
    assert result.executions == 6
    assert returns(result) == Counter({2: 2, 1: 4})
    assert {"parent", "child"} <= set(next(iter(result.outcomes)))


def test_a_tracked_attribute_that_refers_to_another_tracked_object_is_deterministic_and_shown_by_name():
    result = explored(program("linking", linking, track=[Link]))
    assert "nondeterminism" not in kinds(result)
    assert set(states(result)) == {"Link#1.peer=None, Link#2.peer=None",
                                   "Link#1.peer=Link#2, Link#2.peer=None"}
    (race,) = result.races
    assert "Link#2" in race.message and "object at 0x" not in race.message


# ---- exceptions in threads ---------------------------------------------------------------------------


def test_an_exception_ending_a_thread_is_an_error_finding_naming_that_thread():
    def main():
        tally = Tally()

        def worker():
            tally.bump()
            raise RuntimeError("worker gave up")

        thread = threading.Thread(target=worker, name="quitter")
        thread.start()
        thread.join()

    result = explored(program("thread raises", main, track=[Tally]))
    (error,) = [f for f in result.findings if f.kind == "error"]
    assert error.thread == "quitter"
    assert "quitter" in error.message and "RuntimeError: worker gave up" in error.message
    assert isinstance(error.exception, RuntimeError)


# ---- what each strategy must see, named one by one -----------------------------------------------


def test_stateful_search_explores_a_program_whose_tracked_attributes_are_named_as_it_runs():
    # the module docstring's own example: Score#1.value exists only once a run makes it
    scenario = program("two increments", two_increments, track=[Score])
    result = explored(scenario, "stateful")
    assert set(states(result)) == {"Score#1.value=1", "Score#1.value=2"}


def test_locks_taken_in_opposite_orders_are_a_lock_order_cycle_even_when_no_run_deadlocks():
    result = explored(program("abba in turn", abba_in_turn))
    assert result.deadlocked == 0
    assert "lock-order-cycle" in kinds(result), result.lock_order
    overlapping = explored(program("abba", abba))
    assert {"deadlock", "lock-order-cycle"} <= kinds(overlapping)


def put_then_take_a_permit(shared):
    items, permits = shared
    seen = []
    try:
        items.put_nowait("item")
    except queue.Full:
        seen.append("full")
    seen.append(permits.acquire(blocking=False))
    return tuple(seen)


def test_stateful_search_tells_a_put_that_raised_queue_full_from_one_that_did_not():
    # whichever thread puts second finds the queue full, and either may then get the permit
    scenario = program("full queue", setup=lambda: (queue.Queue(maxsize=1), threading.Semaphore(1)),
                       threads={"T0": put_then_take_a_permit, "T1": put_then_take_a_permit})
    every = {(outcome["T0"], outcome["T1"]) for outcome in explored(scenario).outcomes}
    assert every == {(("full", True), (False,)), (("full", False), (True,)),
                     ((True,), ("full", False)), ((False,), ("full", True))}
    stateful = {(outcome["T0"], outcome["T1"]) for outcome in explored(scenario, "stateful").outcomes}
    assert stateful == every


def test_stateful_search_cuts_revisited_states_of_a_class_that_holds_its_own_lock():
    # Account keeps its lock in a tracked attribute, as the notebook's FakeDatabase does;
    # the two deposits commute, so states repeat as they do for two_increments
    scenario = program("locked deposits", locked_deposits, track=[Account])
    exhaustive, stateful = explored(scenario), explored(scenario, "stateful")
    assert stateful.pruned > 0 and stateful.executions < exhaustive.executions / 4


def test_dpor_reaches_the_final_state_in_which_a_daemon_thread_wrote_before_the_program_ended():
    # main writes y and ends, which ends the daemon: its write of x is in some runs, not others
    exhaustive = explored(program("daemon writes", daemon_writes, track=[Box]))
    assert set(states(exhaustive)) == {"Box#1.x=0, Box#1.y=1", "Box#1.x=1, Box#1.y=1"}
    dpor = explored(program("daemon writes", daemon_writes, track=[Box]), "dpor")
    assert set(states(dpor)) == set(states(exhaustive))


def test_a_daemon_beside_a_pools_idle_worker_stops_when_the_program_ends():
    # found by a review: the idle worker kept the run going after main's end, so the
    # daemon's write always happened (on CPython it may not)
    for strategy in ("exhaustive", "dpor", "stateful"):
        result = explored(program("daemon beside a pool", daemon_writes_beside_a_pool, track=[Box]), strategy)
        assert set(states(result)) == {"Box#1.x=0, Box#1.y=1", "Box#1.x=1, Box#1.y=1"}, strategy


def test_dpor_explores_both_answers_of_is_alive_asked_while_the_thread_may_be_ending():
    exhaustive = explored(program("alive", alive_after_start))
    assert returns(exhaustive).keys() == {True, False}
    dpor = explored(program("alive", alive_after_start), "dpor")
    assert returns(dpor).keys() == {True, False}


# ---- restoration -----------------------------------------------------------------------------------


class Restored:
    def __init__(self):
        self.x = 0


def patched_things() -> dict:
    return {
        "threading.Lock": threading.Lock, "threading.RLock": threading.RLock,
        "threading.Thread.start": threading.Thread.start, "threading.Thread.join": threading.Thread.join,
        "threading.Condition.wait": threading.Condition.wait, "threading.Event.set": threading.Event.set,
        "time.sleep": time.sleep, "time.monotonic": time.monotonic, "time.time": time.time,
        "queue.Queue.put": queue.Queue.put, "queue.SimpleQueue": queue.SimpleQueue,
        "ThreadPoolExecutor.submit": concurrent.futures.ThreadPoolExecutor.submit,
        "Restored.__getattribute__": Restored.__getattribute__, "Restored.__setattr__": Restored.__setattr__,
        "Restored's own entries": tuple(sorted(vars(Restored))),
    }


#: What they are when this module is imported, before any exploration.
ORIGINALS = patched_things()


def assert_restored(before: dict) -> None:
    """Everything patched is what it was before, and what it was when nothing ran: no
    function of explorer's (a closure of the patching code) is left on threading, time,
    queue or concurrent.futures, nor a hook on the tracked class."""
    after = patched_things()
    for originals in (before, ORIGINALS):
        assert [k for k in originals if after[k] is not originals[k] and after[k] != originals[k]] == []
    assert "__getattribute__" not in vars(Restored) and "__setattr__" not in vars(Restored)
    assert threading.Lock().__class__.__module__ == "_thread"
    for name, thing in after.items():
        assert "explorer" not in (getattr(thing, "__module__", None) or ""), name
        assert "<locals>" not in getattr(thing, "__qualname__", ""), name


def uses_everything():
    obj = Restored()
    obj.x = 1
    threading.Lock()
    time.sleep(1)
    queue.Queue().put(1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(square, 2).result()


def test_everything_patched_is_the_original_again_after_a_program_that_raises():
    def main():
        uses_everything()
        raise ValueError("the program failed")

    before = patched_things()
    result = explored(program("raises", main, track=[Restored]))
    assert kinds(result) == {"error"} and "the program failed" in result.findings[0].message
    assert_restored(before)


def test_a_keyboard_interrupt_in_a_thread_stops_the_search_as_interrupted_and_restores_everything():
    def main():
        uses_everything()

        def interrupted():
            Restored().x = 2
            raise KeyboardInterrupt

        thread = threading.Thread(target=interrupted)
        thread.start()
        thread.join()

    before = patched_things()
    result = explore(program("ctrl-c", main, track=[Restored]), strategy="exhaustive")
    assert result.stop_reason == "interrupted" and not result.complete
    assert "Ctrl-C" in result.incomplete_reason
    assert_restored(before)
    # and the next exploration starts afresh
    assert explored(program("two increments", two_increments, track=[Score])).executions == 19


def test_a_ctrl_c_between_runs_stops_the_search_as_interrupted_after_the_runs_so_far_and_restores_all():
    def interrupt(executions, steps, seconds):
        raise KeyboardInterrupt  # progress is called after about every 1,024 executions

    before = patched_things()
    result = explore(program("three increments", three_increments, track=[Score]), strategy="exhaustive",
                     progress=interrupt)
    assert result.stop_reason == "interrupted" and 0 < result.executions < 1121
    assert sum(result.final_states.values()) == result.completed == result.executions
    assert_restored(before)
    assert "__getattribute__" not in vars(Score) and "__setattr__" not in vars(Score)


def test_ctrl_c_in_a_pool_task_holding_a_lock_stops_the_search_as_interrupted_not_as_nondeterminism():
    # The KeyboardInterrupt unwinds the task's `with lock:`, whose release is a step the
    # same schedule did not take before: that was reported as nondeterminism
    assert threading.current_thread() is threading.main_thread()  # where Ctrl-C lands
    started = []

    class Locked:
        def __init__(self):
            self.value = 0
            self.lock = threading.Lock()

        def increment(self):
            started.append(True)
            with self.lock:
                if len(started) == 3:  # the second run's first task: the first run's prefix
                    signal.raise_signal(signal.SIGINT)
                self.value = self.value + 1

    def main():
        shared = Locked()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for _ in range(2):
                pool.submit(shared.increment)
        return shared.value

    before = patched_things()
    for strategy in ("dpor", "exhaustive", "stateful"):
        started.clear()
        result = explore(program("ctrl-c in a task", main, track=[Locked]), strategy=strategy)
        assert (result.stop_reason, result.complete) == ("interrupted", False), (strategy, result.stop_reason)
        assert result.executions == 1 and not result.findings, strategy  # the run pressed in is not counted
    assert_restored(before)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_everything_patched_is_the_original_again_after_a_program_that_completes():
    before = patched_things()
    result = explored(program("fine", uses_everything, track=[Restored]))
    assert result.findings == [] and result.completed == result.executions
    assert_restored(before)


def test_programs_explored_in_several_os_threads_at_once_each_get_their_serial_verdicts_and_all_is_restored():
    names = ["two increments", "locked deposits", "event waits", "queue pipeline", "executor shutdown"]
    serial = {name: verdicts(explored(scenario_of(name))) for name in names}
    before = patched_things()
    found: dict[str, list] = {name: [] for name in names}

    def explore_thrice(name):
        for _ in range(3):
            found[name].append(verdicts(explored(scenario_of(name))))

    explorers = [threading.Thread(target=explore_thrice, args=(name,)) for name in names]
    for thread in explorers:
        thread.start()
    for thread in explorers:
        thread.join()
    assert found == {name: [serial[name]] * 3 for name in names}
    assert_restored(before)


# ---- objects made before the exploration ----------------------------------------------------------


def test_a_tracked_instance_made_before_the_exploration_is_refused_by_an_error_finding_naming_it():
    made_before = Restored()

    def main():
        made_before.x = 5

    result = explored(program("made before", main, track=[Restored]))
    (error,) = [f for f in result.findings if f.kind == "error"]
    assert "Restored" in error.message and "'x'" in error.message
    assert "made before the exploration" in error.message
    assert made_before.x == 0  # never written by any run


def test_the_refusal_of_an_instance_made_before_points_at_the_programs_line_not_at_explorers():
    made_before = Restored()

    def main():
        made_before.x = 5  # the line the finding should show

    line = main.__code__.co_firstlineno + 1
    (error,) = explored(program("made before", main, track=[Restored])).errors
    assert error.details["location"] == f"tests/test_plain_programs.py:{line}", error.message
    assert "explorer/plain" not in error.message


def test_a_module_global_lock_made_at_import_is_explored_as_a_lock_named_after_the_global():
    module = module_of("plain_global_lock", """
        import threading
        import time

        GUARD = threading.Lock()

        class Wallet:
            def __init__(self):
                self.coins = 0

            def add(self):
                with GUARD:
                    coins = self.coins
                    time.sleep(1)
                    self.coins = coins + 1

        def main():
            wallet = Wallet()
            workers = [threading.Thread(target=wallet.add) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            return wallet.coins
    """)
    real = module.GUARD
    scenario = program("global lock", module.main, track=[module.Wallet])
    result = explored(scenario)
    assert returns(result).keys() == {2} and "lost-update" not in kinds(result)
    acquired = {e.target for e in replay(scenario, ["main"], extend=True).events if e.kind == "acquire"}
    assert acquired == {"GUARD"}
    assert module.GUARD is real and not real.locked()
    for strategy in COMPLETE:
        assert verdicts(explored(scenario, strategy)) == verdicts(result)


def test_names_imported_from_threading_and_time_at_import_are_the_modelled_ones_during_a_run():
    module = module_of("plain_from_imports", """
        from threading import Lock
        from time import monotonic, sleep

        def main():
            guard = Lock()
            with guard:
                sleep(1)
            return monotonic(), guard.locked()
    """)
    started = time.perf_counter()
    result = explored(program("from imports", module.main))
    assert time.perf_counter() - started < 0.8  # virtual time: the sleep takes none
    assert returns(result) == Counter({(1.0, False): 1})
    assert result.findings == []
    run = replay(program("from imports", module.main), ["main"], extend=True)
    steps = [(e.kind, e.target) for e in run.events]
    assert steps[:3] == [("acquire", "Lock#1"), ("sleep", "time"), ("release", "Lock#1")]


LIBRARY_LOCK_PROGRAM = """
import sys, threading, time, types
import explorer

library = types.ModuleType("plain_library")  # a module the program uses, not the program's own
exec("import threading\\nLOCK = threading.Lock()", library.__dict__)
sys.modules["plain_library"] = library

class Wallet:
    def __init__(self):
        self.coins = 0

def main():
    wallet = Wallet()
    def add():
        with library.LOCK:
            coins = wallet.coins
            time.sleep(1)
            wallet.coins = coins + 1
    workers = [threading.Thread(target=add) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

result = explorer.explore(explorer.program("library lock", main, track=[Wallet]), strategy="exhaustive")
print(sorted(str(state) for state in result.final_states))
print([(f.kind, f.message) for f in result.findings])
"""


def test_a_lock_a_library_made_at_import_and_held_across_a_step_is_handled_or_refused_never_hangs():
    try:
        done = subprocess.run([sys.executable, "-c", LIBRARY_LOCK_PROGRAM], capture_output=True, text=True,
                              timeout=10, cwd=pathlib.Path(__file__).parent.parent)
    except subprocess.TimeoutExpired:
        pytest.fail("explore() hung: a thread waits in the real lock another thread of the program holds, "
                    "on the one OS thread they share")
    assert done.returncode == 0, done.stderr
    states_line, findings_line = done.stdout.splitlines()[-2:]
    handled = states_line == "['Wallet#1.coins=2']"
    refused = "'error'" in findings_line and "LOCK" in findings_line
    assert handled or refused, done.stdout


def test_a_module_global_condition_held_at_import_is_refused_with_a_message_that_names_it_and_restores_everything():
    # (a free one is explored afresh in every run: tests/test_plain_module_globals.py)
    module = module_of("plain_global_condition", """
        import threading

        READY = threading.Condition()
        READY.acquire()  # and never released: no fresh condition starts so

        def main():
            with READY:
                READY.notify_all()
    """)
    before = patched_things()
    with pytest.raises(ScenarioError, match=r"plain_global_condition\.READY is a Condition made at import and its "
                                            r"lock is held now; every run starts from it, so the lock must be free"):
        explore(program("global condition", module.main))
    assert_restored(before)


def test_a_module_global_thread_local_gives_each_thread_its_own_attributes_and_is_left_as_found():
    # Found by a review: each thread's data.x was the same object's, so a sum of 1 + 2 ended
    # at 2 or 4 (never 3) with no word said; it was refused since, and is modelled now
    module = module_of("plain_global_local", """
        import threading

        data = threading.local()
        data.x = 0  # main's

        def main():
            sums = []

            def work(n):
                data.x = getattr(data, "x", 10) + n
                sums.append(data.x)
            threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return (tuple(sorted(sums)), data.x)
    """)
    before = patched_things()
    result = explore(program("global local", module.main))
    assert [outcome["main"] for outcome in result.outcomes] == [((11, 12), 0)]
    assert not result.findings and module.data.x == 0
    assert_restored(before)


def _square(n):
    return n * n


def _pool_of_two(use):
    def main():
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(_square, n) for n in (1, 2)]
            return use(futures)
    return main


NOT_MODELLED = {
    "as_completed over a pool's futures and a Future()": (
        lambda futures: sorted(f.result() for f in concurrent.futures.as_completed([*futures, Future()])),
        ("concurrent.futures.wait() and as_completed() over a pool's futures together with futures made by "
         "concurrent.futures.Future() are not modelled yet")),
}


@pytest.mark.parametrize("name", list(NOT_MODELLED))
def test_a_pool_feature_not_modelled_is_one_error_at_the_programs_own_line(name):
    # Found by a review: as_completed, wait and running() died of an AttributeError inside
    # concurrent/futures/_base.py instead of saying what is not modelled
    use, words = NOT_MODELLED[name]
    explored = explore(program(name, _pool_of_two(use)))
    (error,) = [f for f in explored.findings if f.kind == "error"]
    assert f"thread main raised NotModelled: {words}" in error.message
    assert "test_plain_programs.py:" in error.message and "_base.py" not in error.message


def test_joining_the_current_thread_raises_runtimeerror_as_threading_does():
    # Found by a review: the main thread's handle had no join, so an AttributeError came out
    def main():
        try:
            threading.current_thread().join()
        except RuntimeError as error:
            return str(error)
        return "joined"

    explored = explore(program("join myself", main))
    assert not explored.findings and {outcome["main"] for outcome in explored.outcomes} == \
        {"cannot join current thread"}


# ---- replay and JSON ---------------------------------------------------------------------------------


class Ledger:
    def __init__(self):
        self.total = 0

    def add(self, amount):
        total = self.total
        time.sleep(0.1)
        self.total = total + amount


def ledger_cell():
    ledger = Ledger()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for amount in (1, 2):
            pool.submit(ledger.add, amount)
    return ledger.total


def test_replaying_a_findings_schedule_reproduces_the_finding_and_its_final_state():
    scenario = program("ledger", ledger_cell, track=[Ledger])
    result = explored(scenario, "dpor")
    (lost,) = [f for f in result.findings if f.kind == "lost-update"]
    again = replay(scenario, lost.trace.schedule)
    assert lost.message in {f.message for f in again.findings}
    assert again.status == "completed" and dict(again.final_state)["Ledger#1.total"] in (1, 2)
    assert again.trace.schedule == lost.trace.schedule


def test_replaying_a_schedule_that_ends_while_a_started_thread_can_still_run_is_a_schedule_error():
    scenario = program("two increments", two_increments, track=[Score])
    with pytest.raises(explorer.ScheduleError):
        replay(scenario, ["main", "main", "main"])  # Score(), two starts: both threads can still run
    assert replay(scenario, ["main", "main", "main"], extend=True).status == "completed"


def test_a_result_saved_as_json_loads_back_a_trace_that_replays_to_the_same_finding():
    scenario = program("ledger", ledger_cell, track=[Ledger])
    result = explored(scenario, "dpor")
    text = result.to_json()
    document = json.loads(text)
    assert document["scenario"]["name"] == "ledger"
    (lost,) = [f for f in result.findings if f.kind == "lost-update"]
    trace = load_trace(text, finding="lost-update")
    assert trace.schedule == lost.trace.schedule
    assert [(e.thread, e.kind, e.target) for e in trace.events] == [(e.thread, e.kind, e.target)
                                                                    for e in lost.trace.events]
    assert lost.message in {f.message for f in replay(scenario, trace).findings}


def test_a_deadlock_saved_as_json_replays_to_the_same_deadlock():
    scenario = program("abba", abba)
    result = explored(scenario)
    assert 0 < result.deadlocked < result.executions
    (deadlock,) = result.deadlocks
    assert set(deadlock.cycle) == {"A", "B"}
    trace = load_trace(result.to_json(), finding="deadlock")
    again = replay(scenario, trace)
    assert again.status == "deadlocked" and deadlock.message in {f.message for f in again.findings}


# ---- the short form ----------------------------------------------------------------------------------


class Pair:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n = self.n + k


def test_the_short_form_with_a_failing_check_gives_an_invariant_finding_in_exactly_the_lost_runs():
    chains, before = two_threads_of(["read", "write"])
    every = orders(chains, before)
    final = Counter(increments(order, {"A": 1, "B": 2}) for order in every)
    assert final == Counter({3: 10, 2: 6, 1: 3})

    scenario = program("pair", setup=Pair, threads={"T0": lambda p: p.add(1), "T1": lambda p: p.add(2)},
                       check=lambda p: p.n == 3)
    result = explored(scenario)
    assert {int(k.rpartition("=")[2]): n for k, n in states(result).items()} == dict(final)
    assert returns(result) == Counter({True: 10, False: 9})
    assert "invariant" in kinds(result)
    for strategy in COMPLETE:
        assert verdicts(explored(scenario, strategy)) == verdicts(result)


def test_the_short_form_with_a_passing_check_gives_no_invariant_finding():
    scenario = program("pair", setup=Pair, threads={"T0": lambda p: p.add(1), "T1": lambda p: p.add(2)},
                       check=lambda p: p.n in (1, 2, 3))
    result = explored(scenario)
    assert "invariant" not in kinds(result) and returns(result).keys() == {True}


def test_an_invariant_on_the_final_state_and_a_check_on_the_outcome_fail_in_the_lost_update_only():
    by_invariant = explored(program("invariant", two_increments, track=[Score],
                                    invariant=lambda state: state["Score#1.value"] == 2))
    by_check = explored(program("check", two_increments, track=[Score],
                                check=lambda outcome: outcome["main"] == 2))
    for result in (by_invariant, by_check):
        (failed,) = [f for f in result.findings if f.kind == "invariant"]
        assert "Score#1.value=1" in failed.message and failed.occurrences == 9  # 9 of 19, by orders()


def test_program_refuses_a_generator_main_a_builtin_class_to_track_and_a_short_form_without_threads():
    def steps():
        yield explorer.read("x")

    with pytest.raises(TypeError, match="generator"):
        program("generator", steps)
    with pytest.raises(TypeError, match="built in"):
        program("builtin", two_increments, track=[dict])
    with pytest.raises(TypeError, match="threads="):
        program("no threads", setup=Pair)
    with pytest.raises(TypeError, match="not both"):
        program("both", two_increments, setup=Pair, threads={"T0": lambda p: p.add(1)})



@pytest.mark.parametrize("cls, attr", [(queue.Queue, "queue"), (queue.LifoQueue, "mutex"),
                                       (queue.PriorityQueue, "unfinished_tasks"), (queue.Queue, "not_empty")])
def test_reading_a_queues_internals_says_they_are_not_modelled_at_the_programs_own_line(cls, attr):
    # they died of "AttributeError: 'Queue' object has no attribute 'queue'", which reads
    # as the program's own mistake
    def main():
        items = cls()
        items.put(1)
        return getattr(items, attr)

    before = patched_things()
    (error,) = [f for f in explore(program("peek", main)).findings if f.kind == "error"]
    assert f"thread main raised NotModelled: {cls.__name__}.{attr} is not modelled" in error.message
    assert "test_plain_programs.py:" in error.message
    assert_restored(before)
    real = cls()  # outside a run, a queue is threading's own, internals and all
    assert hasattr(real, attr) and not hasattr(queue.Queue, "__getattr__")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        real.nothing  # noqa: B018 - the lookup is what is checked


# ---- the seed notebook ---------------------------------------------------------------------------------

NOTEBOOK = {name: value for name, value in vars(seed_notebook).items()
            if isinstance(value, explorer.Scenario)}


#: Exhaustive enumeration of locked_update_program runs 90,270 schedules (about 40 s here);
#: dpor runs the executor.map cell's 4,424 Mazurkiewicz traces (about 3 to 6 s).
SLOW = {("locked_update_program", "exhaustive"), ("executor_map_cell", "dpor")}
#: executor.map of three sleeping tasks on three workers: its exhaustive search takes minutes
#: (more than 300,000 schedules), left out.
TOO_BIG = {("executor_map_cell", "exhaustive")}


@pytest.mark.parametrize("name, strategy", [
    pytest.param(name, strategy, marks=[pytest.mark.slow] if (name, strategy) in SLOW else [])
    for name in NOTEBOOK for strategy in ("exhaustive", "dpor", "stateful")
    if (name, strategy) not in TOO_BIG])
def test_every_seed_notebook_cell_passes_its_expect(name, strategy):
    scenario = NOTEBOOK[name]
    assert scenario.expect is not None
    assert scenario.expect.problems(explore(scenario, strategy=strategy)) == []


def test_the_notebook_cells_kept_out_of_the_fast_tier_are_cells_of_the_notebook():
    assert {name for name, _ in SLOW | TOO_BIG} <= set(NOTEBOOK)
    assert len(NOTEBOOK) == 7 and all(scenario.expect is not None for scenario in NOTEBOOK.values())


# ---- generated programs ---------------------------------------------------------------------------------


class Shared:
    def __init__(self):
        self.a = 0
        self.b = 0


#: operation -> the most steps it takes
OPERATIONS = {
    "read a": 1, "write a": 1, "increment a": 2, "increment b": 2, "locked increment a": 4,
    "rlock increment b": 4, "try lock": 2, "lock with timeout": 2,
    "set": 1, "clear": 1, "is set": 1, "wait 1s": 1, "wait": 1,
    "put": 1, "put nowait": 1, "get nowait": 1, "get 1s": 1, "get": 1, "qsize": 1,
    "acquire semaphore": 1, "release semaphore": 1, "semaphore increment b": 4,
    "barrier": 1, "notify": 3, "condition wait 1s": 3, "sleep": 1,
}


def run_operations(operations, shared):
    """One thread of a generated program: ``operations`` in turn; returns what it saw."""
    box, lock, rlock, event, items, permits, barrier, condition = shared
    seen = []
    for operation in operations:
        if operation == "read a":
            seen.append(box.a)
        elif operation == "write a":
            box.a = len(seen)
        elif operation == "increment a":
            box.a = box.a + 1
        elif operation == "increment b":
            box.b = box.b + 1
        elif operation == "locked increment a":
            with lock:
                box.a = box.a + 1
        elif operation == "rlock increment b":
            with rlock:
                box.b = box.b + 1
        elif operation == "try lock" or operation == "lock with timeout":
            got = lock.acquire(blocking=False) if operation == "try lock" else lock.acquire(timeout=1)
            seen.append(got)
            if got:
                lock.release()
        elif operation == "set":
            event.set()
        elif operation == "clear":
            event.clear()
        elif operation == "is set":
            seen.append(event.is_set())
        elif operation == "wait 1s":
            seen.append(event.wait(timeout=1))
        elif operation == "wait":
            event.wait()
        elif operation == "put":
            items.put(len(seen))
        elif operation == "put nowait":
            try:
                items.put_nowait(len(seen))
            except queue.Full:
                seen.append("full")
        elif operation == "get nowait" or operation == "get 1s":
            try:
                seen.append(items.get_nowait() if operation == "get nowait" else items.get(timeout=1))
            except queue.Empty:
                seen.append("empty")
        elif operation == "get":
            seen.append(items.get())
        elif operation == "qsize":
            seen.append(items.qsize())
        elif operation == "acquire semaphore":
            seen.append(permits.acquire(blocking=False))
        elif operation == "release semaphore":
            permits.release()
        elif operation == "semaphore increment b":
            with permits:
                box.b = box.b + 1
        elif operation == "barrier":
            seen.append(barrier.wait())
        elif operation == "notify":
            with condition:
                condition.notify()
        elif operation == "condition wait 1s":
            with condition:
                seen.append(condition.wait(timeout=1))
        elif operation == "sleep":
            time.sleep(1)
    return tuple(seen)


def make_shared():
    return (Shared(), threading.Lock(), threading.RLock(), threading.Event(), queue.Queue(maxsize=1),
            threading.Semaphore(1), threading.Barrier(2), threading.Condition())


def thread_operations():
    return st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1, max_size=3).filter(
        lambda ops: sum(OPERATIONS[op] for op in ops) <= 6)


def generated(first, second):
    return program(f"{first} | {second}", setup=make_shared, track=[Shared],
                   threads={"T0": lambda shared: run_operations(first, shared),
                            "T1": lambda shared: run_operations(second, shared)})


def assert_dpor_agrees(first, second):
    scenario = generated(first, second)
    assert verdicts(explored(scenario, "dpor")) == verdicts(explored(scenario))


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_operations(), thread_operations())
def test_dpor_agrees_with_exhaustive_enumeration_on_generated_plain_programs(first, second):
    assert_dpor_agrees(first, second)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_operations(), thread_operations())
def test_dpor_agrees_with_exhaustive_enumeration_on_many_more_generated_plain_programs(first, second):
    assert_dpor_agrees(first, second)


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_operations(), thread_operations())
def test_stateful_search_agrees_with_exhaustive_enumeration_on_generated_plain_programs(first, second):
    scenario = generated(first, second)
    assert verdicts(explored(scenario, "stateful")) == verdicts(explored(scenario))



@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_operations(), thread_operations())
def test_bounded_and_stateful_search_without_symmetry_agree_with_exhaustive_enumeration_on_generated_plain_programs(
        first, second):
    scenario = generated(first, second)
    result = explored(scenario)
    for strategy, options in (("bounded", {}), ("stateful", {"symmetry": False})):
        assert verdicts(explored(scenario, strategy, **options)) == verdicts(result), strategy
    if not {"write a", "increment a"} & {*first, *second}:  # every write of a is under the lock
        assert {state["Shared#1.a"] for state in result.final_states} <= {(first + second).count("locked increment a")}

# ---- generated programs of every other kind ---------------------------------------------------------
#
# A second table, for the kinds the first leaves out: each operation is a function of the
# objects (a Kit) and the thread's own record (a Mine), registered with the most steps it
# takes, the objects it needs (main makes only those: each object's set-up and clean-up
# are steps) and how it may hold a run up: "blocks" (it may wait for ever: a real run
# then sits out the cross-check's settling time) or "times out" (a wait of 10 ms, which
# real threads do sit out).

class Counts:
    def __init__(self):
        self.a = 0
        self.b = 0


class Kit:
    """The objects a generated program uses, made by its main before the threads start."""

    def __init__(self, uses: set):
        self.counts = Counts()
        makers = {
            "lock": threading.Lock, "rlock": threading.RLock, "event": threading.Event,
            "condition": threading.Condition, "bounded": lambda: threading.BoundedSemaphore(1),
            "lifo": queue.LifoQueue, "priority": queue.PriorityQueue, "simple": queue.SimpleQueue,
            "tasks": queue.Queue, "barrier": lambda: threading.Barrier(2, action=self.bump_b),
            "local": threading.local, "pool": lambda: concurrent.futures.ThreadPoolExecutor(max_workers=1),
            "future": Future,
        }
        for name in uses:
            setattr(self, name, makers[name]())
        self.uses = uses

    def bump_b(self):
        self.counts.b = self.counts.b + 1

    def left(self) -> tuple:
        """What the objects hold once every thread has ended: a queue's items in the order
        it hands them out, a bounded semaphore's free permits, a future's state."""
        if "pool" in self.uses:
            self.pool.shutdown()
        left = []
        for name in ("lifo", "priority", "simple", "tasks"):
            if name in self.uses:
                items = getattr(self, name)
                drained = []
                while not items.empty():
                    drained.append(items.get())
                left.append((name, tuple(drained)))
        if "bounded" in self.uses:
            left.append(("bounded", self.bounded.acquire(blocking=False)))
        if "future" in self.uses:
            left.append(("future", self.future.done()))
        return tuple(left)


class Mine:
    """One thread's own: its number, what it saw, its futures and its timer."""

    def __init__(self, number: int):
        self.number = number
        self.seen: list = []
        self.futures: list = []
        self.timer = None


#: operation -> (the most steps it takes, the objects it uses, "blocks" / "times out" / "")
KINDS: dict[str, tuple] = {}
TIMEOUT = 0.01  # every timeout of the table's waits: short, for the real runs


def kind(name: str, steps: int, *uses: str, holds: str = ""):
    def register(run):
        KINDS[name] = (steps, frozenset(uses), holds, run)
        return run
    return register


def caught(call, *errors):
    """What ``call()`` returns, or the name of the exception of ``errors`` it raised."""
    try:
        return call()
    except errors as error:
        return type(error).__name__


@kind("bounded acquire", 1, "bounded")
def _(kit, mine):
    mine.seen.append(kit.bounded.acquire(blocking=False))


@kind("bounded release", 1, "bounded")
def _(kit, mine):
    mine.seen.append(caught(kit.bounded.release, ValueError))


for _name in ("lifo", "priority", "simple", "tasks"):
    @kind(f"{_name} put", 2, _name)
    def _(kit, mine, name=_name):
        getattr(kit, name).put(mine.number)

    @kind(f"{_name} get", 1, _name)
    def _(kit, mine, name=_name):
        mine.seen.append(caught(getattr(kit, name).get_nowait, queue.Empty))


@kind("simple get 10ms", 2, "simple", holds="times out")
def _(kit, mine):
    mine.seen.append(caught(lambda: kit.simple.get(timeout=TIMEOUT), queue.Empty))


@kind("task done", 1, "tasks")
def _(kit, mine):
    mine.seen.append(caught(kit.tasks.task_done, ValueError))


@kind("tasks join", 1, "tasks", holds="blocks")
def _(kit, mine):
    kit.tasks.join()


@kind("barrier", 3, "barrier", holds="blocks")
def _(kit, mine):
    mine.seen.append(caught(kit.barrier.wait, threading.BrokenBarrierError))


@kind("barrier 10ms", 3, "barrier", holds="times out")
def _(kit, mine):
    mine.seen.append(caught(lambda: kit.barrier.wait(timeout=TIMEOUT), threading.BrokenBarrierError))


@kind("barrier abort", 1, "barrier")
def _(kit, mine):
    kit.barrier.abort()


@kind("barrier reset", 1, "barrier")
def _(kit, mine):
    kit.barrier.reset()


@kind("local set", 0, "local")
def _(kit, mine):
    kit.local.x = mine.number


@kind("local get", 0, "local")
def _(kit, mine):
    mine.seen.append(getattr(kit.local, "x", None))


@kind("submit", 5, "pool")
def _(kit, mine):
    future = caught(lambda: kit.pool.submit(square, mine.number), RuntimeError)
    if not isinstance(future, str):
        mine.futures.append(future)
    mine.seen.append(future if isinstance(future, str) else "submitted")


@kind("result", 1, "pool")
def _(kit, mine):
    if mine.futures:
        mine.seen.append(caught(mine.futures[-1].result, concurrent.futures.CancelledError))


@kind("done", 1, "pool")
def _(kit, mine):
    if mine.futures:
        mine.seen.append(mine.futures[-1].done())


@kind("cancel", 1, "pool")
def _(kit, mine):
    if mine.futures:
        mine.seen.append(mine.futures[-1].cancel())


@kind("shutdown", 3, "pool")
def _(kit, mine):
    kit.pool.shutdown()


@kind("shutdown cancelling", 3, "pool")
def _(kit, mine):
    kit.pool.shutdown(cancel_futures=True)


@kind("map", 10, "pool")
def _(kit, mine):
    mine.seen.append(caught(lambda: tuple(kit.pool.map(square, (2, 3))), RuntimeError))


@kind("wait", 2, "pool")
def _(kit, mine):
    if mine.futures:
        done, _ = concurrent.futures.wait(mine.futures)
        mine.seen.append(len(done))


@kind("as completed", 2, "pool")
def _(kit, mine):
    if mine.futures:
        mine.seen.append(sorted(caught(future.result, concurrent.futures.CancelledError)
                                for future in concurrent.futures.as_completed(mine.futures)).__len__())


@kind("set future", 4, "future")
def _(kit, mine):
    mine.seen.append(caught(lambda: kit.future.set_result(mine.number), concurrent.futures.InvalidStateError))


@kind("future result", 3, "future", holds="blocks")
def _(kit, mine):
    mine.seen.append(kit.future.result())


@kind("future result 10ms", 6, "future", holds="times out")
def _(kit, mine):
    mine.seen.append(caught(lambda: kit.future.result(timeout=TIMEOUT), TimeoutError))


@kind("future wait 10ms", 7, "future", holds="times out")
def _(kit, mine):
    mine.seen.append(len(concurrent.futures.wait([kit.future], timeout=TIMEOUT).done))


@kind("future as completed 10ms", 10, "future", holds="times out")
def _(kit, mine):
    mine.seen.append(caught(lambda: [f.result() for f in concurrent.futures.as_completed([kit.future], timeout=TIMEOUT)],
                            TimeoutError))


@kind("start and join", 5)
def _(kit, mine):
    child = threading.Thread(target=kit.bump_b)
    child.start()
    child.join()


@kind("timer", 10)
def _(kit, mine):
    mine.timer = threading.Timer(TIMEOUT, kit.bump_b)
    mine.timer.start()


@kind("timer cancel", 1)
def _(kit, mine):
    if mine.timer is not None:
        mine.timer.cancel()


@kind("active count", 1)
def _(kit, mine):
    mine.seen.append(threading.active_count())


@kind("name", 0)
def _(kit, mine):
    mine.seen.append(threading.current_thread().name)


@kind("notify all", 3, "condition")
def _(kit, mine):
    with kit.condition:
        kit.condition.notify_all()


@kind("wait for b 10ms", 6, "condition", holds="times out")
def _(kit, mine):
    with kit.condition:
        mine.seen.append(kit.condition.wait_for(lambda: kit.counts.b > 0, timeout=TIMEOUT))


@kind("rlock twice bump b", 6, "rlock")
def _(kit, mine):
    with kit.rlock, kit.rlock:  # its holder takes it again
        kit.bump_b()


@kind("locked bump a", 4, "lock")
def _(kit, mine):
    with kit.lock:
        kit.counts.a = kit.counts.a + 1


@kind("release unheld", 1, "lock")
def _(kit, mine):
    mine.seen.append(caught(kit.lock.release, RuntimeError))


@kind("event set", 1, "event")
def _(kit, mine):
    kit.event.set()


@kind("event wait", 1, "event", holds="blocks")
def _(kit, mine):
    kit.event.wait()


@kind("event wait 10ms", 2, "event", holds="times out")
def _(kit, mine):
    mine.seen.append(kit.event.wait(timeout=TIMEOUT))


def run_kinds(operations, kit: Kit, number: int, seen: list) -> None:
    mine = Mine(number)
    for operation in operations:
        KINDS[operation][-1](kit, mine)
    seen[number] = tuple(mine.seen)


def kinds_program(plan: tuple) -> explorer.Scenario:
    """main makes the objects ``plan`` (a tuple of each thread's operations) uses, runs
    each thread's operations on a thread ``T0``, ``T1``... of its own, joins them and
    returns what each saw and what the objects hold at the end."""
    uses = set().union(*(KINDS[operation][1] for operations in plan for operation in operations))

    def main():
        kit = Kit(uses)
        seen = [None] * len(plan)
        threads = [threading.Thread(target=run_kinds, args=(operations, kit, number, seen), name=f"T{number}")
                   for number, operations in enumerate(plan)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return tuple(seen), kit.left()

    return program(" | ".join(", ".join(operations) for operations in plan), main, track=[Counts])


#: the steps main takes for an object at the end (Kit.left)
LEFT = {"lifo": 1, "priority": 1, "simple": 1, "tasks": 1, "bounded": 1, "future": 1, "pool": 2}


def kinds_cost(plan: tuple) -> int:
    """The most steps a generated program takes: its operations', and main's start, join
    and look at what is left."""
    uses = set().union(*(KINDS[operation][1] for operations in plan for operation in operations))
    return (sum(KINDS[operation][0] for operations in plan for operation in operations) + 3 * len(plan)
            + sum(LEFT.get(name, 0) for name in uses))


def kinds_plans(holds=("", "blocks", "times out"), cost: int = 16):
    """Two or three threads of one to three operations of KINDS whose ``holds`` is one of
    ``holds``, of at most ``cost`` (kinds_cost)."""
    names = sorted(name for name, (_, _, hold, _) in KINDS.items() if hold in holds)
    thread = st.lists(st.sampled_from(names), min_size=1, max_size=3).map(tuple)
    return st.lists(thread, min_size=2, max_size=3).map(tuple).filter(lambda plan: kinds_cost(plan) <= cost)


def counted(plan: tuple, outcome) -> None:
    """What counting ``plan``'s operations says of one outcome of its program: a thread's
    locals are its own, its name is its own, a task's result is its square, a queue ends
    holding its puts less its gets (a priority queue's smallest first), a bounded
    semaphore its one permit less the acquires plus the releases it let through, a future
    is set once, by one thread, and every locked increment of ``a`` counts."""
    seen, left = outcome["main"]
    left = dict(left)
    puts, gets, permits, setters, results = Counter(), Counter(), 1, [], []
    uses = set().union(*(KINDS[operation][1] for operations in plan for operation in operations))
    threads = 1 + len(plan) + ("pool" in uses) + sum(ops.count("timer") + ops.count("start and join") for ops in plan)
    for number, operations in enumerate(plan):
        if seen[number] is None:  # the thread raised (a lock released under its holder): its error says so
            continue
        said, futures = iter(seen[number]), 0
        for operation in operations:
            if operation in ("result", "done", "cancel", "wait", "as completed") and not futures:
                continue
            name, _, verb = operation.partition(" ")
            if verb == "put":
                puts[name] += 1
            value = next(said) if _appends(operation) else None
            if operation == "submit":
                futures += value == "submitted"
            elif operation == "local get":
                assert value == (number if "local set" in operations[:operations.index("local get")] else None)
            elif operation == "name":
                assert value == f"T{number}"
            elif operation == "active count":
                assert 2 <= value <= threads
            elif operation == "result":
                assert value in (number * number, "CancelledError")
            elif operation == "map":
                assert value in ((4, 9), "RuntimeError")
            elif verb in ("get", "get 10ms") and value != "Empty":
                gets[name] += 1
            elif operation == "bounded acquire":
                permits -= value
            elif operation == "bounded release":
                permits += value is None
            elif operation == "set future":
                setters += [number] if value is None else []
            elif operation in ("future result", "future result 10ms"):
                results.append(value)
        assert next(said, "none left") == "none left"
    for name in ("lifo", "priority", "simple", "tasks"):
        if name in left:
            assert len(left[name]) == puts[name] - gets[name], name
    if "priority" in left:
        assert list(left["priority"]) == sorted(left["priority"])
    if "bounded" in left:
        assert 0 <= permits <= 1 and left["bounded"] == (permits == 1)
    if "future" in left:
        assert len(setters) == (1 if any("set future" in ops for ops in plan) else 0)
        assert left["future"] == bool(setters)
        assert set(results) <= set(setters) | {"TimeoutError"}
    if not any("release unheld" in ops for ops in plan):
        assert outcome["Counts#1.a"] == sum(ops.count("locked bump a") for ops in plan)


def _appends(operation: str) -> bool:
    """Whether ``operation`` adds what it saw to its thread's record."""
    return operation not in ("tasks join", "barrier abort", "barrier reset", "local set", "shutdown",
                             "shutdown cancelling", "start and join", "timer", "timer cancel", "notify all",
                             "rlock twice bump b", "locked bump a", "event set", "event wait") \
        and not operation.endswith(" put")


def assert_complete_strategies_agree(plan: tuple) -> None:
    scenario = kinds_program(plan)
    expected = verdicts(explored(scenario))
    for strategy, options in (("dpor", {}), ("stateful", {}), ("stateful", {"symmetry": False}), ("bounded", {})):
        assert verdicts(explored(scenario, strategy, **options)) == expected, (strategy, options)


def assert_counted(plan: tuple) -> None:
    result = explored(kinds_program(plan))
    for outcome in result.outcomes:
        counted(plan, outcome)



def real_plans():
    """Plans quick on real threads (no wait without a timeout), without active_count(): real
    threads may count a thread that takes no step, which the model ends at its start
    (test_active_count_may_count_a_thread_that_has_started_and_not_yet_ended_though_it_takes_no_step)."""
    return kinds_plans(holds=("", "times out"), cost=13).filter(
        lambda plan: "active count" not in {*(op for ops in plan for op in ops)})


@pytest.mark.parametrize("operation", sorted(KINDS))
def test_every_operation_of_every_kind_alone_twice_gives_every_complete_strategy_exhaustive_verdicts(operation):
    plan = ((operation,), (operation,)) if kinds_cost(((operation,), (operation,))) <= 16 else ((operation,), ("name",))
    assert_complete_strategies_agree(plan)
    assert_counted(plan)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds_plans())
def test_every_complete_strategy_gives_exhaustive_verdicts_on_generated_programs_of_every_kind(plan):
    assert_complete_strategies_agree(plan)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds_plans())
def test_generated_programs_of_every_kind_end_as_counting_their_operations_says(plan):
    assert_counted(plan)


# real_plans() keeps plans cheap (a cost of 13 at most) and without active_count(): a run
# may draw many it filters out (CI once drew 50 against 7 kept), no fault of those it keeps
@settings(max_examples=examples(8), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(real_plans())
def test_real_threads_give_only_outcomes_exploration_found_for_generated_programs_of_every_kind(plan):
    check = crosscheck(kinds_program(plan), runs=20, seed=7)
    assert check.unexpected == [], check.render()


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds_plans())
def test_every_complete_strategy_gives_exhaustive_verdicts_on_many_more_generated_programs_of_every_kind(plan):
    assert_complete_strategies_agree(plan)
    assert_counted(plan)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(real_plans())
def test_real_threads_give_only_outcomes_exploration_found_for_many_more_generated_programs_of_every_kind(plan):
    check = crosscheck(kinds_program(plan), runs=50, seed=7)
    assert check.unexpected == [], check.render()


def nothing():
    pass


def counted_while_another_ends():
    seen = []
    quiet = threading.Thread(target=nothing)
    counter = threading.Thread(target=lambda: seen.append(threading.active_count()))
    quiet.start()
    counter.start()
    quiet.join()
    counter.join()
    return seen[0]


@pytest.mark.xfail(strict=True, reason="a thread that takes no step ends at its start in the model, so "
                                       "active_count() never counts it; on real threads it stays in threading's "
                                       "_active until its _bootstrap_inner deletes it, and another thread may count "
                                       "it (a generated program's crosscheck: 3 in 1 of 50 runs, never explored)")
def test_active_count_may_count_a_thread_that_has_started_and_not_yet_ended_though_it_takes_no_step():
    result = explored(program("counted while another ends", counted_while_another_ends))
    assert set(returns(result)) == {2, 3}



def test_a_crosscheck_names_a_thread_started_by_a_named_thread_as_exploration_does():
    # exploration named the thread T1 starts 'T1/Thread-1 (bump_b)' in outcomes, real
    # threads 'Thread-1 (bump_b)': every real run of a generated program with 'start and
    # join' was UNEXPECTED
    check = crosscheck(kinds_program((("name",), ("start and join",))), runs=5, seed=7)
    assert check.unexpected == [], check.render()
