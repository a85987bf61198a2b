"""explorer: enumerate every interleaving of small concurrent Python scenarios.

>>> from explorer import Scenario, explore, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> counter = Scenario("lost update", variables={"x": 0}, threads={"A": increment, "B": increment})
>>> result = explore(counter)  # dpor: one execution per Mazurkiewicz trace
>>> result.executions, result.final_states[State(x=1)], sorted({f.kind for f in result.findings})
(4, 2, ['lost-update', 'nonserializable', 'race'])
>>> every = explore(counter, strategy="exhaustive")  # every interleaving, one by one
>>> every.executions, every.final_states[State(x=1)]
(6, 4)
"""

from ._version import __version__ as __version__
from .crosscheck import CrosscheckResult, crosscheck, replay_on_threads
from .errors import (
    ExplorerError,
    InvalidArgument,
    NondeterminismError,
    ScenarioError,
    ScenarioTypeError,
    ScheduleError,
)
from .expect import Expect
from .explore import explore, replay
from .findings import Event, Finding, Trace
from .objects import Barrier, BoundedSemaphore, Condition, Queue, Semaphore, ThreadPool
from .json_format import load_trace
from .outcomes import Outcome, State
from .plain import program, untracked
from .results import Execution, ExplorationResult
from .scenario import Scenario
from .steps import (
    acquire,
    clear_event,
    get,
    is_set,
    join,
    notify,
    notify_all,
    put,
    read,
    release,
    result,
    set_event,
    shutdown,
    sleep,
    spawn,
    submit,
    task_done,
    update,
    wait,
    write,
)

# The modules that word, write, build and draw hand the records their conveniences
# (trace.render(), result.to_json(), result.state_graph, _repr_html_) as they are imported;
# explorer/_conveniences.py says why the records do not import them.
from . import graphs, json_format, notebook, render  # noqa: E402, F401  (after the records)

__all__ = [
    # describing a scenario
    "Scenario",
    "program",
    "untracked",
    "Expect",
    "read",
    "write",
    "acquire",
    "release",
    "update",
    # the threading vocabulary's objects (objects=) and the steps on them
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Barrier",
    "Queue",
    "ThreadPool",
    "wait",
    "notify",
    "notify_all",
    "set_event",
    "clear_event",
    "is_set",
    "put",
    "get",
    "task_done",
    "join",
    "spawn",
    "submit",
    "result",
    "shutdown",
    "sleep",
    # running it
    "explore",
    "replay",
    "load_trace",
    # checking the model against real threads
    "crosscheck",
    "replay_on_threads",
    "CrosscheckResult",
    # what comes back
    "ExplorationResult",
    "Execution",
    "State",
    "Outcome",
    "Finding",
    "Trace",
    "Event",  # a trace's step, and with no arguments a threading.Event declaration
    # misuse
    "ExplorerError",
    "ScenarioError",
    "ScenarioTypeError",
    "InvalidArgument",
    "ScheduleError",
    "NondeterminismError",
]

