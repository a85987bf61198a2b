"""Search strategies: each chooses which thread runs next, and nothing else.

A strategy never sees generators, values or locks; see :class:`.base.Strategy`.
"""

from .base import Strategy
from .exhaustive import Exhaustive
from .schedule import FollowSchedule

__all__ = ["STRATEGIES", "Exhaustive", "FollowSchedule", "Strategy"]

#: The strategies ``explore(strategy=...)`` accepts by name.
STRATEGIES = {"exhaustive": Exhaustive}
