"""Fuzzing: random scenario definitions and random or mutated JSON files never crash explorer.

Only clean outcomes may come out: a result (whose findings describe the faults), or an
``ExplorerError``. Any other exception is a bug in explorer.

The example counts are sized for CI (about 15 s in all). A longer run by hand:
``EXPLORER_FUZZ_EXAMPLES=3000 python -m pytest tests/test_fuzz.py -p no:cacheprovider``
(each test then runs that many examples).
"""

import json
import math
import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from explorer import ExplorerError, Scenario, acquire, explore, load_trace, read, release, replay, write
from explorer.cli import main
from explorer.results import Execution, ExplorationResult

_OVERRIDE = os.environ.get("EXPLORER_FUZZ_EXAMPLES")


def examples(default: int) -> int:
    return int(_OVERRIDE) if _OVERRIDE else default


def fuzz(default: int):
    """Hypothesis settings for a fuzz test: ``default`` examples, or the override."""
    return settings(max_examples=examples(default), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=not _OVERRIDE, database=None)

# ---- random scenario definitions ---------------------------------------------------------------

def mostly(good, bad):
    """Draws from ``good`` about nine times in ten, else from ``bad``."""
    return st.sampled_from(list(good) * (9 * len(bad) // len(good) + 1) + list(bad))


NAMES = mostly(["x", "y", "l", "m"], ["A", "", "z", 1, None])  # mostly declared, sometimes not
VALUES = (st.integers(-3, 3) | st.none() | st.text(max_size=2) | st.just(math.nan) | st.just([1])
          | st.tuples(st.integers(0, 2)))
EXCEPTIONS = st.sampled_from([ValueError, KeyError, SystemExit, StopIteration, GeneratorExit, RecursionError,
                              RuntimeError, ZeroDivisionError])

ACTIONS = st.one_of(
    st.tuples(st.just("read"), NAMES),
    st.tuples(st.just("write"), NAMES, VALUES),
    st.tuples(st.just("write"), NAMES, VALUES),
    st.tuples(st.just("acquire"), NAMES),
    st.tuples(st.just("release"), NAMES),
    st.tuples(st.just("junk"), VALUES | st.sampled_from([read, "read x", ("read", "x"), b"x"])),
    st.tuples(st.just("raise"), EXCEPTIONS),
    st.tuples(st.just("return"), VALUES),
    st.tuples(st.just("bare")),
    st.tuples(st.just("loop"), NAMES),
    st.tuples(st.just("swallow"), NAMES),
)


def body_of(actions):
    """A thread body that performs ``actions`` in order: steps, bad yields, raises, a return."""
    def body():
        for action in actions:
            op = action[0]
            if op in ("read", "acquire", "release"):
                yield {"read": read, "acquire": acquire, "release": release}[op](action[1])
            elif op == "write":
                yield write(action[1], action[2])
            elif op == "junk":
                yield action[1]
            elif op == "raise":
                raise action[1]("fuzzed")
            elif op == "return":
                return action[1]
            elif op == "bare":
                yield
            elif op == "loop":
                while True:
                    yield read(action[1])
            elif op == "swallow":
                try:
                    yield acquire(action[1])
                except GeneratorExit:
                    pass
    return body


THREADS = st.lists(ACTIONS, max_size=5).map(body_of) | st.sampled_from([lambda: 1, lambda: None, 3, "body"])
THREADS = THREADS | st.lists(ACTIONS, min_size=1, max_size=5).map(body_of)


@st.composite
def definitions(draw):
    """Keyword arguments of Scenario(...), valid or not."""
    kwargs = {}
    odd = ["A", "", "x", 1, None]  # now and then a name that is wrong here
    kwargs["threads"] = draw(st.dictionaries(mostly("ABC", odd), THREADS, min_size=1, max_size=3)
                             | st.just({}))
    kwargs["variables"] = draw(st.dictionaries(mostly("xy", odd), VALUES, max_size=2))
    kinds = mostly(["lock", "rlock", "RLock"], ["sem", 1])
    locks = draw(st.none() | st.lists(mostly("lm", odd), max_size=2)
                 | st.dictionaries(mostly("lm", odd), kinds, max_size=2))
    if locks is not None:
        kwargs["locks"] = locks
    return kwargs


@fuzz(400)
@given(definitions(), st.sampled_from(["exhaustive", "dpor", "random"]))
def test_random_scenario_definitions_give_a_result_or_an_explorer_error_and_nothing_else(definition, strategy):
    try:
        scenario = Scenario("fuzzed", **definition)
    except ExplorerError:
        event("refused when made")
        return
    result = explore(scenario, strategy=strategy, max_executions=40, max_steps=15)
    assert isinstance(result, ExplorationResult)
    assert result.complete == (result.incomplete_reason is None)
    result.render()
    event(f"explored: {min(result.executions, 10)} executions, findings {sorted({f.kind for f in result.findings})[:2]}")
    document = json.loads(result.to_json())
    for number, finding in enumerate(result.findings[:3]):
        trace = load_trace(document, finding=number)
        assert trace.schedule == finding.trace.schedule
        again = replay(scenario, trace, max_steps=15)
        assert isinstance(again, Execution) and again.trace.schedule == trace.schedule


# ---- random and mutated JSON -----------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _counter():
    from scenarios.counter import lost_update

    return lost_update


def _valid_documents():
    result = explore(_counter())
    text = result.to_json()
    from explorer.json_format import trace_to_json

    return [json.loads(text), json.loads(trace_to_json(result.findings[0].trace, scenario=_counter()))]


VALID = _valid_documents()
KEYS = sorted({"format", "version", "scenario", "trace", "findings", "threads", "schedule", "events", "index",
               "thread", "kind", "target", "value", "location", "blocked", "blocked_at", "marks", "preemptions",
               "$tuple", "$repr", "$type", "$float", "$int"})


@st.composite
def mutated(draw):
    """A valid trace or result document with a few random edits deep inside."""
    document = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    for _ in range(draw(st.integers(1, 3))):
        node = document
        while True:  # walk down to a random container
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            containers = [(k, v) for k, v in children if isinstance(v, (dict, list)) and v]
            if not containers or draw(st.integers(0, 3)) == 0:
                break
            node = draw(st.sampled_from(containers))[1]
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        edit = draw(st.sampled_from(["replace", "delete", "rename"]))
        if edit == "replace" or isinstance(node, list):
            node[key] = draw(JSON | st.sampled_from(["A", "B", "C", "x", 0, 1, -1, 2**70]))
        elif edit == "delete":
            del node[key]
        else:
            node[draw(st.sampled_from(KEYS))] = node.pop(key)
    return document


def load_and_replay(source):
    """Load a trace and replay it against the counter: a result or an ExplorerError, nothing else."""
    try:
        trace = load_trace(source, finding=0) if '"explorer-result"' in str(source) else load_trace(source)
    except ExplorerError as error:
        assert isinstance(error, ValueError) and str(error)
        return
    try:
        replay(_counter(), trace)
    except ExplorerError as error:
        assert str(error)


@fuzz(300)
@given(JSON)
def test_arbitrary_json_is_refused_cleanly_by_load_trace(data):
    load_and_replay(json.dumps(data))
    load_and_replay(data)


@fuzz(300)
@given(mutated())
def test_mutated_trace_and_result_files_load_and_replay_or_are_refused_cleanly(document):
    load_and_replay(json.dumps(document))


@fuzz(300)
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_arbitrary_text_and_bytes_never_crash_load_trace(text):
    load_and_replay(text if not isinstance(text, str) or text.lstrip().startswith(("{", "[")) else "{" + text)


@fuzz(60)
@given(mutated())
def test_the_replay_command_refuses_a_broken_trace_file_with_exit_two_and_no_traceback(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("fuzz") / "trace.json"
    path.write_text(json.dumps(document))
    status = main(["replay", "scenarios/counter.py", "--trace", str(path), "-k", "lost"])
    assert status in (0, 1, 2)
