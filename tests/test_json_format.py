"""The JSON form of results and traces: lossless round trips, strict decoding, valid JSON only."""

import json
import math
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import Event, Finding, InvalidArgument, Scenario, Trace, explore, read, replay, write
from explorer.json_format import (
    FORMAT,
    SCHEMA_VERSION,
    TRACE_FORMAT,
    OpaqueValue,
    decode_value,
    encode_value,
    load_trace,
    result_to_dict,
    result_to_json,
    trace_from_dict,
    trace_to_dict,
    trace_to_json,
)
from explorer.steps import write as write_step
from scenarios import abba, bank_transfer, counter, lock_twice

from .helpers import library, overdraft

ROOT = Path(__file__).parent.parent
LIBRARY = library(exhaustive=True)  # explored() searches each one exhaustively


@cache
def explored(scenario):
    return explore(scenario, strategy="exhaustive")


def strict_json(text):
    """``json.loads`` that refuses NaN and Infinity, which are not JSON."""
    def refuse(name):
        raise AssertionError(f"{name} in output: not valid JSON")

    return json.loads(text, parse_constant=refuse)


def increment():
    value = yield read("x")
    yield write("x", value + 1)


COUNTER = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


# ----------------------------------------------------------------------------------------------
# Round trips through the scenario library


def test_every_finding_trace_in_the_scenario_library_round_trips_and_replays_to_the_same_schedule():
    kinds = set()
    for scenario in LIBRARY:
        result = explored(scenario)
        text = result_to_json(result)
        for position, finding in enumerate(result.findings):
            kinds.add(finding.kind)
            alone = load_trace(trace_to_json(finding.trace, scenario=scenario))
            from_result = load_trace(text, finding=position)
            assert alone == finding.trace == from_result, (scenario.name, finding.kind)
            again = replay(scenario, alone)
            assert again.schedule == finding.trace.schedule
            assert again.events == finding.trace.events
    assert {"lost-update", "nonserializable", "deadlock", "error"} <= kinds


def test_a_loaded_deadlock_trace_replays_into_the_same_deadlock():
    scenario = abba.abba_deadlock
    deadlock = explored(scenario).deadlocks[0]
    trace = load_trace(result_to_json(explored(scenario)), finding="deadlock")
    execution = replay(scenario, trace)
    assert execution.status == "deadlocked"
    assert dict(execution.trace.blocked) == dict(trace.blocked) == {"A": "b", "B": "a"}
    assert trace == deadlock.trace


def test_a_trace_file_written_to_disk_loads_from_its_path_as_str_or_pathlike(tmp_path):
    finding = explored(counter.lost_update).findings[0]
    path = tmp_path / "lost.json"
    path.write_text(trace_to_json(finding.trace, scenario=counter.lost_update), encoding="utf-8")
    assert load_trace(path) == load_trace(str(path)) == finding.trace
    assert json.loads(path.read_text())["scenario"] == "lost update"


def test_every_library_result_is_strict_json_whose_counts_agree_with_the_result():
    for scenario in LIBRARY:
        result = explored(scenario)
        data = strict_json(result_to_json(result))
        assert data["format"] == FORMAT and data["version"] == SCHEMA_VERSION
        assert data["counts"] == {
            "executions": result.executions, "completed": result.completed,
            "deadlocked": result.deadlocked, "failed": result.failed,
            "truncated": result.truncated, "steps": result.steps,
        }
        assert data["complete"] == result.complete
        assert data["incomplete_reason"] == result.incomplete_reason
        assert data["stop_reason"] == result.stop_reason
        assert sum(entry["count"] for entry in data["final_states"]) == result.completed
        assert {json.dumps(e["state"]): e["count"] for e in data["final_states"]} == {
            json.dumps({name: encode_value(value) for name, value in state.items()}): count
            for state, count in result.final_states.items()
        }
        assert sum(entry["count"] for entry in data["outcomes"]) == result.completed
        assert [f["kind"] for f in data["findings"]] == [f.kind for f in result.findings]
        assert [f["occurrences"] for f in data["findings"]] == [f.occurrences for f in result.findings]
        assert data["scenario"]["threads"] == list(scenario.threads)
        assert data["scenario"]["locks"] == dict(scenario.locks)


def test_an_invariant_broken_by_several_outcomes_is_one_group_listing_each_with_its_count():
    data = strict_json(result_to_json(explore(overdraft())))
    groups = [group for group in data["groups"] if group["kind"] == "invariant"]
    assert groups == [{
        "kind": "invariant", "severity": "error", "subject": "invariant never_negative",
        "summary": "invariant never_negative is broken by 2 outcomes",
        "findings": [n for n, finding in enumerate(data["findings"]) if finding["kind"] == "invariant"],
        "outcomes": [{"outcome": "balance=-40", "executions": 12}, {"outcome": "balance=-60", "executions": 16}],
    }]
    assert len(groups[0]["findings"]) == 3  # -40 is reached with two sets of return values


def test_groups_place_every_finding_of_the_library_exactly_once_with_its_own_kind():
    for scenario in LIBRARY:
        result = explored(scenario)
        data = strict_json(result_to_json(result))
        placed = sorted(n for group in data["groups"] for n in group["findings"])
        assert placed == list(range(len(result.findings)))
        for group in data["groups"]:
            assert {data["findings"][n]["kind"] for n in group["findings"]} == {group["kind"]}
            if len(group["findings"]) == 1:
                assert group["summary"] == data["findings"][group["findings"][0]]["message"]


def test_the_same_exploration_gives_the_same_json_apart_from_elapsed():
    scenario = bank_transfer.bank_transfer_unlocked
    first, second = result_to_dict(explore(scenario)), result_to_dict(explore(scenario))
    first["elapsed"] = second["elapsed"] = 0
    assert json.dumps(first) == json.dumps(second)


def test_final_states_are_listed_in_value_order_not_discovery_order():
    data = result_to_dict(explored(counter.lost_update))
    assert [(e["state"], e["count"]) for e in data["final_states"]] == [({"x": 1}, 4), ({"x": 2}, 2)]
    assert [e["returns"] for e in data["outcomes"]] == [{"A": None, "B": None}] * 2


def test_the_scenario_is_described_with_its_source_variables_locks_and_predicates():
    def conserved(state):
        return state["checking"] + state["savings"] == 200

    scenario = Scenario("bank", variables={"checking": 100, "savings": (1, 2)}, locks={"l": "rlock"},
                        threads={"A": increment}, invariant=conserved)
    described = result_to_dict(explore(scenario))["scenario"]
    assert described["name"] == "bank"
    assert re.search(r"test_json_format\.py:\d+$", described["source"])
    assert described["variables"] == {"checking": 100, "savings": {"$tuple": [1, 2]}}
    assert described["locks"] == {"l": "rlock"}
    assert described["invariant"].endswith("conserved") and described["check"] is None


def test_the_documented_examples_are_what_the_code_writes_for_the_lost_update_counter(monkeypatch):
    """A snapshot: set UPDATE_DOCS=1 to rewrite the examples in docs/json-format.md instead."""
    monkeypatch.chdir(ROOT)  # locations are relative to the working directory
    path = ROOT / "docs" / "json-format.md"
    doc = path.read_text(encoding="utf-8")
    example = re.compile(r"(<!-- example: (\w+) -->\n```json\n)(.*?)(\n```)", re.DOTALL)
    result = explore(counter.lost_update, strategy="exhaustive")
    written = {"result": result_to_json(result),
               "trace": trace_to_json(result.findings[0].trace, scenario=counter.lost_update)}
    if os.environ.get("UPDATE_DOCS"):
        doc = example.sub(lambda m: m[1] + written[m[2]] + m[4], doc)
        path.write_text(doc, encoding="utf-8")
    blocks = {m[2]: m[3] for m in example.finditer(doc)}
    assert set(blocks) == {"result", "trace"}
    for name, shown in blocks.items():
        shown, actual = json.loads(shown), json.loads(written[name])
        for document in (shown, actual):
            document["explorer_version"] = "any"
            document.pop("elapsed", None)
        assert shown == actual, (
            f"docs/json-format.md's {name} example is out of date; if the change is intended, rewrite it "
            f"with UPDATE_DOCS=1 python -m pytest tests/test_json_format.py -k documented"
        )


# ----------------------------------------------------------------------------------------------
# Values JSON cannot hold


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def test_values_json_cannot_hold_are_tagged_and_the_output_stays_strict_json():
    odd = [float("nan"), float("inf"), float("-inf"), (1, (2, "a")), frozenset({3, 1, 2}), Point(1, 2),
           2 ** 20000, b"bytes", None, True, 1.5]

    def writer():
        for value in odd:
            yield write("x", value)
        return Point(0, 0)

    result = explore(Scenario("odd values", variables={"x": float("nan")}, threads={"A": writer}))
    text = result_to_json(result)
    data = strict_json(text)
    assert data["scenario"]["variables"] == {"x": {"$float": "nan"}}
    assert data["outcomes"][0]["returns"] == {"A": {"$repr": "Point(x=0, y=0)", "$type": f"{__name__}.Point"}}
    execution = replay(result.scenario, ["A"] * len(odd))
    written = strict_json(trace_to_json(execution.trace))["trace"]["events"]
    assert [event["value"] for event in written[:5]] == [
        {"$float": "nan"}, {"$float": "inf"}, {"$float": "-inf"},
        {"$tuple": [1, {"$tuple": [2, "a"]}]}, {"$frozenset": [1, 2, 3]},
    ]
    assert written[6]["value"] == {"$int": hex(2 ** 20000)}
    loaded = load_trace(trace_to_json(execution.trace))
    values = [event.value for event in loaded.events]
    assert math.isnan(values[0]) and values[1:3] == [math.inf, -math.inf]
    assert values[3:5] == odd[3:5] and values[6] == 2 ** 20000 and values[8:] == odd[8:]
    assert values[5] == OpaqueValue(f"{__name__}.Point", "Point(x=1, y=2)")
    described = [(a.describe(), b.describe()) for a, b in zip(loaded.events, execution.events) if a.index != 6]
    assert all(a == b for a, b in described)  # an opaque value shows its original repr


def test_an_opaque_value_is_written_back_exactly_as_it_was_read():
    tagged = {"$repr": "<object at 0x1>", "$type": "mod.Thing"}
    assert encode_value(decode_value(tagged)) == tagged


def test_finding_details_of_any_shape_become_json_with_string_keys():
    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    details = {
        "exception": ValueError("bad value"),
        "step": write_step("x", (1, 2)),
        "waits": [("A", "l", "B", False)],
        "cycle": ("a", "b", "a"),
        "held": frozenset({"m", "l"}),
        "marks": {3: "racing write", 1: "racing read"},
        (1, "x"): {None: float("nan"), 1: "int key", "1": "str key"},
        "odd": Unprintable(),
    }
    trace = Trace(schedule=(), events=(), threads=("A",))
    finding = Finding("race", "warning", "message", trace, "A", 1, MappingProxyType(details))
    result = explore(COUNTER)
    result.findings.append(finding)
    written = strict_json(result_to_json(result))["findings"][-1]["details"]
    assert written["exception"] == {"type": "ValueError", "message": "bad value"}
    assert written["step"] == {"kind": "write", "target": "x", "value": [1, 2]}
    assert written["waits"] == [["A", "l", "B", False]] and written["cycle"] == ["a", "b", "a"]
    assert written["held"] == ["l", "m"]
    assert written["marks"] == {"3": "racing write", "1": "racing read"}
    assert written["(1, 'x')"] == {"None": {"$float": "nan"}, "1": "int key", "'1'": "str key"}
    assert written["odd"]["$repr"].startswith("<") and "repr raised RuntimeError" in written["odd"]["$repr"]


# ----------------------------------------------------------------------------------------------
# Properties


names = st.text(min_size=1, max_size=8)
json_native = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=8))
values = st.recursive(json_native, lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner).map(tuple),
                                                           st.frozensets(inner, max_size=4)), max_leaves=8)


@st.composite
def traces(draw):
    threads = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    schedule = draw(st.lists(st.sampled_from(threads), max_size=8))
    events = tuple(
        Event(i, thread, draw(st.sampled_from(["read", "write", "acquire", "release"])), draw(names),
              draw(values), draw(st.none() | st.text(max_size=12)))
        for i, thread in enumerate(schedule)
    )
    blocked = draw(st.dictionaries(st.sampled_from(threads), names))
    blocked_at = draw(st.dictionaries(st.sampled_from(threads), st.none() | st.text(max_size=12)))
    marks = draw(st.dictionaries(st.integers(0, len(events) - 1), st.text(max_size=12))) if events else {}
    return Trace(tuple(schedule), events, tuple(threads), MappingProxyType(blocked),
                 draw(st.integers(0, 10)), MappingProxyType(blocked_at), MappingProxyType(marks))


@given(traces())
def test_a_trace_decodes_to_itself_from_its_dict_and_from_its_json(trace):
    assert trace_from_dict(trace_to_dict(trace)) == trace
    assert load_trace(trace_to_json(trace, indent=None)) == trace


@given(values)
def test_a_json_representable_value_decodes_to_an_equal_value_of_the_same_type(value):
    decoded = decode_value(json.loads(json.dumps(encode_value(value), allow_nan=False)))
    assert decoded == value and type(decoded) is type(value)


@given(st.text())
def test_arbitrary_text_makes_load_trace_raise_invalid_argument_and_nothing_else(text):
    with pytest.raises(InvalidArgument):
        load_trace(text)


@given(st.binary())
def test_arbitrary_bytes_make_load_trace_raise_invalid_argument_and_nothing_else(data):
    with pytest.raises(InvalidArgument):
        load_trace(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_arbitrary_json_values_make_load_trace_raise_invalid_argument(value):
    with pytest.raises(InvalidArgument):
        load_trace(json.dumps(value))
    with pytest.raises(InvalidArgument):
        load_trace({"format": TRACE_FORMAT, "version": 1, "scenario": None, "trace": value})


def _paths(data, prefix=()):
    """Every (path, value) inside nested dicts and lists."""
    yield prefix, data
    if isinstance(data, dict):
        for key, item in data.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _paths(item, (*prefix, i))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.data(), json_values)
def test_a_trace_file_with_any_one_part_replaced_loads_consistently_or_raises_invalid_argument(data, junk):
    finding = explored(abba.abba_deadlock).findings[0]
    document = json.loads(trace_to_json(finding.trace, scenario="ABBA"))
    path = data.draw(st.sampled_from([path for path, _ in _paths(document) if path]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = junk
    try:
        trace = load_trace(json.dumps(document))
    except InvalidArgument as exc:
        assert str(exc)
    else:  # the replacement was itself valid: what loaded writes back and loads the same
        assert load_trace(trace_to_json(trace)) == trace


# ----------------------------------------------------------------------------------------------
# Strict decoding: each mistake is named


def trace_document():
    return json.loads(trace_to_json(explored(counter.lost_update).findings[0].trace, scenario="lost update"))


def test_a_newer_version_is_refused_with_advice_to_upgrade():
    document = trace_document()
    document["version"] = SCHEMA_VERSION + 1
    with pytest.raises(InvalidArgument, match=rf"trace file: version {SCHEMA_VERSION + 1} is newer than this explorer reads .*upgrade"):
        load_trace(document)


@pytest.mark.parametrize("version", [0, "1", True, 1.0, None])
def test_a_version_that_is_not_a_positive_integer_is_refused(version):
    document = trace_document()
    document["version"] = version
    with pytest.raises(InvalidArgument, match=r"field 'version' must be the schema version"):
        load_trace(document)


def test_a_file_of_another_format_is_refused_naming_the_formats():
    document = trace_document()
    document["format"] = "explorer-graph"
    with pytest.raises(InvalidArgument, match=r"field 'format' must be 'explorer-trace' or 'explorer-result'"):
        load_trace(document)


@pytest.mark.parametrize("field", ["threads", "schedule", "events", "blocked", "blocked_at", "marks",
                                   "preemptions"])
def test_a_missing_trace_field_is_named(field):
    document = trace_document()
    del document["trace"][field]
    with pytest.raises(InvalidArgument, match=rf"trace file: field 'trace\.{field}' is missing; expected"):
        load_trace(document)


def test_a_missing_event_value_is_named_with_the_event_position():
    document = trace_document()
    del document["trace"]["events"][2]["value"]
    with pytest.raises(InvalidArgument, match=r"field 'trace\.events\[2\]\.value' is missing"):
        load_trace(document)


@pytest.mark.parametrize(("path", "junk", "message"), [
    (("schedule",), 3, r"field 'trace\.schedule' must be a list of thread names, got int 3"),
    (("schedule", 1), "C", r"field 'trace\.schedule\[1\]' names 'C', which is not in 'trace\.threads'"),
    (("threads",), ["A", "A"], r"'trace\.threads' names thread 'A' twice"),
    (("events", 0, "kind"), "nap", r"'trace\.events\[0\]\.kind' must be one of \['read', 'write'"),
    (("events", 1, "index"), 7, r"'trace\.events\[1\]\.index' must be 1, the event's position"),
    (("events", 1, "thread"), "A", r"'trace\.events\[1\]\.thread' is 'A' but 'trace\.schedule\[1\]' is 'B'"),
    (("events", 0, "value"), [1, 2], r"'trace\.events\[0\]\.value' must be a value: .* got list"),
    (("events", 0, "value"), {"$tuple": 5}, r"'trace\.events\[0\]\.value\.\$tuple' must be a list"),
    (("events", 0, "value"), {"$eval": "1"}, r"got an object with keys \['\$eval'\]"),
    (("marks",), {"x": "note"}, r"'trace\.marks' has key 'x'; its keys must be event positions"),
    (("marks",), {"9": "note"}, r"'trace\.marks' has key '9'.*from 0 to 3"),
    (("preemptions",), -1, r"'trace\.preemptions' must be a count of preemptions \(0 or more\), got int -1"),
    (("preemptions",), True, r"'trace\.preemptions' must be a count of preemptions, got bool True"),
    (("blocked",), {"A": 3}, r"'trace\.blocked\.A' must be the name of the lock"),
])
def test_a_field_of_the_wrong_type_or_value_is_named_with_what_was_expected(path, junk, message):
    document = trace_document()
    parent = document["trace"]
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = junk
    with pytest.raises(InvalidArgument, match=message):
        load_trace(document)


def test_nan_and_duplicate_keys_in_the_text_are_refused_as_not_json():
    text = trace_to_json(explored(counter.lost_update).findings[0].trace)
    with pytest.raises(InvalidArgument, match=r"NaN is not JSON; explorer writes it as \{\"\$float\": \"nan\"\}"):
        load_trace(text.replace('"preemptions": 1', '"preemptions": NaN'))
    with pytest.raises(InvalidArgument, match=r"has the key 'preemptions' twice"):
        load_trace(text.replace('"preemptions": 1', '"preemptions": 1, "preemptions": 2'))


def test_a_tag_is_never_evaluated():
    document = trace_document()
    document["trace"]["events"][0]["value"] = {"$repr": "__import__('os').system('false')", "$type": "int"}
    value = load_trace(document).events[0].value
    assert value == OpaqueValue("int", "__import__('os').system('false')")


def test_a_result_file_with_several_findings_needs_finding_and_lists_them():
    text = result_to_json(explored(counter.lost_update))
    with pytest.raises(InvalidArgument, match=r"result file: the result has \d+ findings \(0: 'lost-update', "
                                              r"1: 'nonserializable'.*finding=<position> or finding=<kind>"):
        load_trace(text)
    with pytest.raises(InvalidArgument, match=r"finding=99 is out of range"):
        load_trace(text, finding=99)
    with pytest.raises(InvalidArgument, match=r"no finding of kind 'deadlock'"):
        load_trace(text, finding="deadlock")
    assert load_trace(text, finding="nonserializable") == explored(counter.lost_update).findings[1].trace


def test_a_result_with_one_finding_loads_it_without_finding_and_one_with_none_says_so():
    only = explored(lock_twice.lock_acquired_twice)
    assert [f.kind for f in only.findings] == ["deadlock"]
    assert load_trace(result_to_json(only)) == only.findings[0].trace
    with pytest.raises(InvalidArgument, match=r"the result has no findings, so it holds no trace"):
        load_trace(result_to_json(explored(counter.locked_counter)))


def test_a_trace_file_refuses_finding_and_load_trace_refuses_other_types():
    with pytest.raises(InvalidArgument, match=r"a trace file holds one trace; finding= selects"):
        load_trace(trace_document(), finding=0)
    with pytest.raises(InvalidArgument, match=r"load_trace takes JSON text, a path or the parsed dict, got int"):
        load_trace(42)
    with pytest.raises(InvalidArgument, match=r"'missing\.json' is neither a file nor valid JSON"):
        load_trace("missing.json")
    with pytest.raises(InvalidArgument, match=r"finding must be a position .* got bool"):
        load_trace(trace_document(), finding=True)


def test_a_stateful_result_says_in_json_what_its_visited_set_stored():
    from explorer import Scenario, explore, read, write

    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    scenario = Scenario("twins", variables={"x": 0}, threads={"A": increment, "B": increment})
    result = explore(scenario, strategy="stateful")
    states = result_to_dict(result)["states"]
    assert states == {"stored": result.states, "per_symmetry_class": True, "symmetric": [["A", "B"]],
                      "collision_probability": result.collision_probability}
    assert 0 < states["stored"] and 0 < states["collision_probability"] < 1e-12
    assert "states" not in result_to_dict(explore(scenario, strategy="exhaustive"))
