"""Search strategies: each chooses which thread runs next, and nothing else.

A strategy never sees generators, values or locks; see :class:`.base.Strategy`.
"""

from .base import Strategy
from .bounded import Bounded
from .dpor import DPOR
from .exhaustive import Exhaustive
from .pct import PCT
from .random_walk import RandomWalk
from .schedule import FollowSchedule
from .stateful import Stateful

__all__ = ["COMPLETE", "DPOR", "SAMPLING", "STRATEGIES", "Bounded", "Exhaustive", "FollowSchedule", "PCT",
           "RandomWalk", "Stateful", "Strategy"]

#: The strategies ``explore(strategy=...)`` accepts by name, each made from the options
#: ``seed``, ``preemptions`` and ``depth``.
STRATEGIES = {
    "exhaustive": lambda seed, preemptions, depth: Exhaustive(),
    "dpor": lambda seed, preemptions, depth: DPOR(),
    "stateful": lambda seed, preemptions, depth: Stateful(),
    "bounded": lambda seed, preemptions, depth: Bounded(2 if preemptions is None else preemptions),
    "random": lambda seed, preemptions, depth: RandomWalk(seed),
    "pct": lambda seed, preemptions, depth: PCT(seed, 3 if depth is None else depth),
}

#: Strategies that cover every schedule (bounded does when its bound prunes nothing).
COMPLETE = ("exhaustive", "dpor", "stateful", "bounded")
#: Strategies that draw samples and need a budget: they stop at max_executions (default 1,000).
SAMPLING = ("random", "pct")
