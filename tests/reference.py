"""An independent oracle: straight-line thread programs, enumerated by plain recursion.

A program is a list of ops per thread: ``("read", var)`` loads a register,
``("write", var, c)`` writes register + c, ``("acquire", lock)``, ``("release", lock)``.
This module shares no code with explorer's engine; it re-states the semantics the
README promises, so the engine can be checked against it.
"""

from __future__ import annotations

from collections import Counter

from explorer import acquire, read, release, write


def body(ops):
    """The same program as an explorer thread body."""
    def run():
        register = 0
        for op in ops:
            if op[0] == "read":
                register = yield read(op[1])
            elif op[0] == "write":
                yield write(op[1], register + op[2])
            elif op[0] == "acquire":
                yield acquire(op[1])
            else:
                yield release(op[1])
        return register
    return run


def enumerate_programs(programs: dict[str, list], variables: dict[str, int], locks: dict[str, str]):
    """Every maximal interleaving: returns (completed, deadlocked, failed, final states Counter)."""
    names = list(programs)
    tally = {"completed": 0, "deadlocked": 0, "failed": 0}
    finals: Counter = Counter()

    def blocked(t, pcs, owner):
        op = programs[names[t]][pcs[t]]
        if op[0] != "acquire":
            return False
        holder = owner[op[1]]
        return holder is not None and not (holder == t and locks[op[1]] == "rlock")

    def visit(pcs, registers, values, owner, depth):
        alive = [t for t in range(len(names)) if pcs[t] < len(programs[names[t]])]
        runnable = [t for t in alive if not blocked(t, pcs, owner)]
        if not runnable:
            if alive:
                tally["deadlocked"] += 1
            else:
                tally["completed"] += 1
                finals[tuple(values[v] for v in variables)] += 1
            return
        for t in runnable:
            op = programs[names[t]][pcs[t]]
            regs, vals, own, dep = list(registers), dict(values), dict(owner), dict(depth)
            if op[0] == "read":
                regs[t] = vals[op[1]]
            elif op[0] == "write":
                vals[op[1]] = regs[t] + op[2]
            elif op[0] == "acquire":
                own[op[1]] = t
                dep[op[1]] += 1
            else:
                lock = op[1]
                if own[lock] == t:
                    dep[lock] -= 1
                    if dep[lock] == 0:
                        own[lock] = None
                elif own[lock] is not None and locks[lock] == "lock":
                    own[lock], dep[lock] = None, 0  # threading.Lock: anyone may release it
                else:
                    tally["failed"] += 1  # RuntimeError: the execution ends
                    continue
            next_pcs = list(pcs)
            next_pcs[t] += 1
            visit(next_pcs, regs, vals, own, dep)

    visit([0] * len(names), [0] * len(names), dict(variables), dict.fromkeys(locks), dict.fromkeys(locks, 0))
    return tally["completed"], tally["deadlocked"], tally["failed"], finals
