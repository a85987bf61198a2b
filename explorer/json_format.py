"""The versioned JSON form of exploration results and traces; docs/json-format.md is the schema.

Writing is lossless wherever JSON allows and deterministic: the same result gives
the same text apart from ``elapsed``. Reading is strict: a file of the wrong
format, a newer version, a missing field or a field of the wrong type raises
:class:`~explorer.errors.InvalidArgument` naming the field. Nothing read from a file
is ever executed or evaluated.

>>> from explorer import Scenario, explore, replay, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
>>> lost = explore(counter).findings[0]
>>> text = trace_to_json(lost.trace, scenario=counter)
>>> trace = load_trace(text)
>>> trace == lost.trace, replay(counter, trace).final_state
(True, State(x=1))
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._conveniences import provides
from .errors import InvalidArgument
from .findings import Event, Finding, Trace, group_findings
from .outcomes import Outcome, State
from .results import ExplorationResult
from .scenario import Scenario
from .steps import Step

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "TRACE_FORMAT",
    "OpaqueValue",
    "decode_value",
    "encode_value",
    "load_trace",
    "result_to_dict",
    "result_to_json",
    "trace_from_dict",
    "trace_to_dict",
    "trace_to_json",
]

#: The schema's major version. Readers reject a newer one; fields may be added within a version.
SCHEMA_VERSION = 2
#: ``format`` of a result file, and of a file holding one trace.
FORMAT = "explorer-result"
TRACE_FORMAT = "explorer-trace"

_STEP_KINDS = (
    "read", "write", "acquire", "release",
    # version 2: steps on the threading vocabulary's objects, and their second halves
    "update", "wait", "expire", "wake", "pass", "notify", "notify_all", "set_event", "clear_event", "is_set",
    "put", "get", "task_done", "join", "spawn", "submit", "take", "finish", "result", "shutdown", "drain",
    # plain code (explorer.program): the queries and time.sleep, same version
    "locked", "is_alive", "done", "qsize", "sleep", "end",
)
# Deeper values are written as their repr: they are not worth a RecursionError.
_MAX_DEPTH = 100
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_HEX_INT = re.compile(r"-?0x[0-9a-f]+")
_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class OpaqueValue:
    """A value JSON cannot hold, as it was written: its type's name and its ``repr``.

    Reading a file never rebuilds the original object (that would mean running
    code from the file); the trace still renders exactly as before, because the
    ``repr`` of an ``OpaqueValue`` is the original ``repr``.
    """

    type: str
    text: str

    def __repr__(self) -> str:
        return self.text


# ----------------------------------------------------------------------------------------------
# Values


@provides
def encode_value(value: object) -> Any:
    """A shared value (or return value) as JSON data, losslessly where JSON allows.

    ``None``, booleans, ints, finite floats and strings are themselves; tuples are
    ``{"$tuple": [...]}``, frozensets ``{"$frozenset": [...]}`` (members sorted),
    ``nan`` and infinities ``{"$float": "nan"}``, ints too long for a JSON reader
    ``{"$int": "0x..."}``, and anything else ``{"$repr": repr(value), "$type": name}``.

    >>> encode_value((1, "a", None)), encode_value(float("-inf"))
    ({'$tuple': [1, 'a', None]}, {'$float': '-inf'})
    """
    return _encode(value, 0)


def _encode(value: object, depth: int) -> Any:
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind.__module__ == "explorer.plain.freezing":
        # a plain program's frozen values: a name (a str) and a list or dict frozen (tuples)
        value = str(value) if isinstance(value, str) else tuple(value)
        kind = type(value)
        if kind is str:
            return value
    if kind is int:
        return value if _fits_json(value) else {"$int": hex(value)}
    if kind is float:
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if kind is OpaqueValue:
        return {"$repr": value.text, "$type": value.type}
    if depth < _MAX_DEPTH:
        if kind is tuple:
            return {"$tuple": [_encode(item, depth + 1) for item in value]}
        if kind is frozenset:
            return {"$frozenset": sorted((_encode(item, depth + 1) for item in value), key=_canonical)}
    return {"$repr": _safe_repr(value), "$type": _type_name(value)}


def _fits_json(number: int) -> bool:
    """Whether Python's json module can write and read ``number`` as a decimal literal."""
    limit = sys.get_int_max_str_digits()
    return limit == 0 or number.bit_length() < (limit - 1) * 3.32


def decode_value(data: Any) -> object:
    """The inverse of :func:`encode_value`; an unknown or malformed tag raises InvalidArgument.

    >>> decode_value({"$tuple": [1, {"$float": "inf"}]}), decode_value({"$repr": "<a>", "$type": "A"})
    ((1, inf), <a>)
    """
    return _decode_value(data, "value", "value", 0)


def _decode_value(data: Any, where: str, path: str, depth: int) -> object:
    kind = type(data)
    if data is None or kind is bool or kind is str or kind is int:
        return data
    if kind is float:
        if math.isfinite(data):
            return data
        _fail(where, path, 'a finite number (nan and infinities are written {"$float": "nan"})', data)
    if kind is not dict:
        _fail(where, path, _VALUE_EXPECTED, data)
    if depth >= _MAX_DEPTH:
        raise InvalidArgument(f"{where}: field {path!r} nests values deeper than {_MAX_DEPTH} levels")
    tags = set(data)
    if tags == {"$tuple"} or tags == {"$frozenset"}:
        tag = tags.pop()
        items = data[tag]
        if type(items) is not list:
            _fail(where, f"{path}.{tag}", "a list of values", items)
        values = [_decode_value(item, where, f"{path}.{tag}[{i}]", depth + 1) for i, item in enumerate(items)]
        return tuple(values) if tag == "$tuple" else frozenset(values)
    if tags == {"$float"}:
        name = data["$float"]
        if type(name) is not str or name not in _SPECIAL_FLOATS:
            _fail(where, f"{path}.$float", "'nan', 'inf' or '-inf'", name)
        return _SPECIAL_FLOATS[name]
    if tags == {"$int"}:
        digits = data["$int"]
        if type(digits) is not str or not _HEX_INT.fullmatch(digits):
            _fail(where, f"{path}.$int", "a hexadecimal integer such as '-0x1f'", digits)
        return int(digits, 16)
    if tags == {"$repr", "$type"}:
        for tag in ("$repr", "$type"):
            if type(data[tag]) is not str:
                _fail(where, f"{path}.{tag}", "a string", data[tag])
        return OpaqueValue(data["$type"], data["$repr"])
    raise InvalidArgument(
        f"{where}: field {path!r} must be {_VALUE_EXPECTED}, got an object with keys "
        f"{sorted(tags)[:6]!r}"
    )


_VALUE_EXPECTED = (
    "a value: null, a boolean, a number, a string, or an object tagged $tuple, $frozenset, "
    "$float, $int, or $repr with $type"
)


# ----------------------------------------------------------------------------------------------
# Details: what a finding's kind knows, written readably; never read back.


def _plain(value: object, depth: int = 0) -> Any:
    """Any value as JSON data: sequences as lists, mappings as objects with string keys,
    sets as sorted lists, exceptions as {"type", "message"}, steps as {"kind", "target"}."""
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int or kind is float or kind is OpaqueValue:
        return _encode(value, depth)
    if depth >= _MAX_DEPTH:
        return {"$repr": _safe_repr(value), "$type": _type_name(value)}
    if isinstance(value, BaseException):
        return {"type": _type_name(value), "message": _safe_str(value)}
    if isinstance(value, Step):
        step = {"kind": value.kind, "target": _plain(value.target, depth + 1)}
        if value.kind == "write":
            step["value"] = _plain(value[2], depth + 1)
        return step
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            plain[_key(key, plain)] = _plain(item, depth + 1)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, AbstractSet):
        return sorted((_plain(item, depth + 1) for item in value), key=_canonical)
    return _encode(value, depth)


def _key(key: object, taken: Mapping[str, Any]) -> str:
    """A mapping key as a JSON object key: strings as they are, ints in decimal, others as repr."""
    text = key if type(key) is str else str(key) if type(key) is int else _safe_repr(key)
    if text in taken:  # 1 and "1" both present: keep both, distinguishably
        text = _safe_repr(key)
        suffix = 2
        while text in taken:
            text, suffix = f"{_safe_repr(key)}#{suffix}", suffix + 1
    return text


def _canonical(data: Any) -> tuple:
    """A sort key for JSON data: null, booleans, numbers, strings, lists, objects, in that order."""
    kind = type(data)
    if data is None:
        return (0,)
    if kind is bool:
        return (1, data)
    if kind is int or kind is float:
        return (2, data)
    if kind is str:
        return (3, data)
    if kind is list:
        return (4, tuple(_canonical(item) for item in data))
    return (5, json.dumps(data, sort_keys=True, allow_nan=False))


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a user's __repr__ may fail; the file must still be written
        return f"<{_type_name(value)} object; repr raised {type(exc).__name__}>"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - likewise a user's __str__
        return _safe_repr(value)


def _type_name(value: object) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", None)
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in (None, "builtins") else f"{module}.{name}"


# ----------------------------------------------------------------------------------------------
# Traces


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """A trace as JSON data; :func:`trace_from_dict` gives it back equal.

    Mark positions become decimal strings (JSON keys are strings); ``blocked`` and
    ``blocked_at`` list threads in the trace's thread order, ``marks`` by position.
    """
    if not isinstance(trace, Trace):
        raise InvalidArgument(f"trace_to_dict takes a Trace (such as finding.trace), got {type(trace).__name__}")
    order = {name: i for i, name in enumerate(trace.threads)}

    def by_thread(mapping: Mapping) -> list:
        return sorted(mapping, key=lambda name: (order.get(name, len(order)), str(name)))

    return {
        "threads": list(trace.threads),
        "schedule": list(trace.schedule),
        "events": [
            {
                "index": event.index,
                "thread": event.thread,
                "kind": event.kind,
                "target": event.target,
                "value": _encode(event.value, 0),
                "location": event.location,
            }
            for event in trace.events
        ],
        "blocked": {name: trace.blocked[name] for name in by_thread(trace.blocked)},
        "blocked_at": {name: trace.blocked_at[name] for name in by_thread(trace.blocked_at)},
        "marks": {str(index): trace.marks[index] for index in sorted(trace.marks)},
        "preemptions": trace.preemptions,
        "waiting": {name: trace.waiting[name] for name in by_thread(trace.waiting)},
    }


def trace_from_dict(data: Any) -> Trace:
    """The trace :func:`trace_to_dict` wrote, checked field by field.

    Raises :class:`InvalidArgument` naming the field for anything missing, of the
    wrong type, or inconsistent (an event whose thread is not the schedule's).
    """
    return _trace(data, "trace", "")


def _trace(data: Any, where: str, prefix: str) -> Trace:
    obj = _object(data, where, prefix.rstrip(".") or "trace")
    threads = _list(obj, "threads", where, prefix, "a list of distinct thread names")
    for i, name in enumerate(threads):
        _name(name, where, f"{prefix}threads[{i}]", "a thread name (a non-empty string)")
    if len(set(threads)) != len(threads):
        duplicate = next(name for name in threads if threads.count(name) > 1)
        raise InvalidArgument(f"{where}: field '{prefix}threads' names thread {duplicate!r} twice")
    known = set(threads)

    def thread(name: Any, path: str) -> str:
        _name(name, where, path, "a thread name (a non-empty string)")
        if name not in known:
            raise InvalidArgument(f"{where}: field {path!r} names {name!r}, which is not in "
                                  f"'{prefix}threads' {threads!r}")
        return name

    schedule = _list(obj, "schedule", where, prefix, "a list of thread names")
    for i, name in enumerate(schedule):
        thread(name, f"{prefix}schedule[{i}]")
    raw_events = _list(obj, "events", where, prefix, "a list of events")
    if len(raw_events) != len(schedule):
        raise InvalidArgument(
            f"{where}: field '{prefix}events' has {len(raw_events)} events but '{prefix}schedule' has "
            f"{len(schedule)} steps; every step has exactly one event"
        )
    events = []
    for i, raw in enumerate(raw_events):
        path = f"{prefix}events[{i}]"
        event = _object(raw, where, path)
        index = _field(event, "index", where, path + ".", "the event's position", int)
        if index != i:
            raise InvalidArgument(f"{where}: field '{path}.index' must be {i}, the event's position, got {index}")
        name = thread(_field(event, "thread", where, path + ".", "a thread name"), f"{path}.thread")
        if name != schedule[i]:
            raise InvalidArgument(f"{where}: field '{path}.thread' is {name!r} but '{prefix}schedule[{i}]' "
                                  f"is {schedule[i]!r}; they must agree")
        kind = _field(event, "kind", where, path + ".", f"one of {list(_STEP_KINDS)}", str)
        if kind not in _STEP_KINDS:
            _fail(where, f"{path}.kind", f"one of {list(_STEP_KINDS)}", kind)
        target = _field(event, "target", where, path + ".", "a variable, lock or object name")
        _name(target, where, f"{path}.target", "a variable, lock or object name (a non-empty string)")
        if "value" not in event:
            _missing(where, f"{path}.value", "the value read or written (null for a lock step)")
        value = _decode_value(event["value"], where, f"{path}.value", 0)
        location = _field(event, "location", where, path + ".", "a 'file:line' string or null", str, None)
        events.append(Event(index, name, kind, target, value, location))
    blocked = _mapping(obj, "blocked", where, prefix, "an object mapping blocked threads to locks")
    for name, lock in blocked.items():
        thread(name, f"{prefix}blocked.{name}")
        _name(lock, where, f"{prefix}blocked.{name}", "the name of the lock the thread waits for")
    blocked_at = _mapping(obj, "blocked_at", where, prefix,
                          "an object mapping blocked threads to 'file:line' or null")
    for name, place in blocked_at.items():
        thread(name, f"{prefix}blocked_at.{name}")
        if place is not None and type(place) is not str:
            _fail(where, f"{prefix}blocked_at.{name}", "a 'file:line' string or null", place)
    raw_marks = _mapping(obj, "marks", where, prefix, "an object mapping event positions to notes")
    marks = {}
    for key, note in raw_marks.items():
        if not _INDEX.fullmatch(key) or int(key) >= len(events):
            raise InvalidArgument(f"{where}: field '{prefix}marks' has key {key!r}; its keys must be "
                                  f"event positions, decimal integers from 0 to {len(events) - 1}")
        if type(note) is not str:
            _fail(where, f"{prefix}marks.{key}", "a string", note)
        marks[int(key)] = note
    preemptions = _field(obj, "preemptions", where, prefix, "a count of preemptions", int)
    if preemptions < 0:
        _fail(where, f"{prefix}preemptions", "a count of preemptions (0 or more)", preemptions)
    waiting = {}
    if "waiting" in obj:  # version 2: the step each blocked thread waits in, in words
        waiting = _mapping(obj, "waiting", where, prefix, "an object mapping blocked threads to steps in words")
        for name, words in waiting.items():
            thread(name, f"{prefix}waiting.{name}")
            if type(words) is not str:
                _fail(where, f"{prefix}waiting.{name}", "a string", words)
    return Trace(
        schedule=tuple(schedule),
        events=tuple(events),
        threads=tuple(threads),
        blocked=MappingProxyType(dict(blocked)),
        preemptions=preemptions,
        blocked_at=MappingProxyType(dict(blocked_at)),
        marks=MappingProxyType(marks),
        waiting=MappingProxyType(dict(waiting)),
    )


def trace_to_json(trace: Trace, *, scenario: Scenario | str | None = None, indent: int | None = 2,
                  source: str | None = None) -> str:
    """A standalone trace file: ``{"format": "explorer-trace", "version": 1, "scenario": name, "trace": ...}``.

    ``scenario`` (a Scenario or its name) is recorded so a reader knows what the
    trace replays; ``source``, where given (``FILE::NAME``, as ``explorer run --save-trace``
    records it), tells apart scenarios titled alike. :func:`load_trace` reads the file back.
    """
    if isinstance(scenario, Scenario):
        scenario = scenario.name
    elif scenario is not None and not isinstance(scenario, str):
        raise InvalidArgument(f"trace_to_json: scenario must be a Scenario, its name, or None; "
                              f"got {type(scenario).__name__}")
    document = {
        "format": TRACE_FORMAT,
        "version": SCHEMA_VERSION,
        "explorer_version": _explorer_version(),
        "scenario": scenario,
        "trace": trace_to_dict(trace),
    }
    if source is not None:
        document["source"] = source
    return _dumps(document, indent)


def load_trace(source: Any, *, finding: int | str | None = None) -> Trace:
    """Read a trace from a trace file or a result file, as JSON text, a path, or parsed data.

    ``source`` is JSON text (``str`` or ``bytes``), a path (``str`` or ``os.PathLike``)
    or the parsed ``dict``. From a result file, ``finding`` picks the finding whose
    trace to load: its position in ``findings``, or a kind (``"deadlock"``: the first
    finding of that kind); it may be left out when the result has exactly one.
    Every malformed input raises :class:`InvalidArgument` saying what is wrong.
    The trace replays with ``explorer.replay(scenario, trace)``.
    """
    if finding is not None and (type(finding) is not int and type(finding) is not str):
        raise InvalidArgument(f"load_trace: finding must be a position in the result's findings (an int) "
                              f"or a finding kind such as 'deadlock', got {type(finding).__name__}")
    data, origin = _read(source)
    where = "load_trace" if origin is None else f"file {origin!r}"
    if type(data) is not dict:
        raise InvalidArgument(f"{where}: expected a trace file or a result file, a JSON object with "
                              f"'format' and 'version', got {_describe(data)}")
    document = data
    form = _field(document, "format", where, "", f"{TRACE_FORMAT!r} or {FORMAT!r}", str)
    if form not in (TRACE_FORMAT, FORMAT):
        _fail(where, "format", f"{TRACE_FORMAT!r} or {FORMAT!r} (is this an explorer file?)", form)
    where = ("trace file" if form == TRACE_FORMAT else "result file") + ("" if origin is None else f" {origin!r}")
    _check_version(document, where)
    if form == TRACE_FORMAT:
        if finding is not None:
            raise InvalidArgument(f"{where}: a trace file holds one trace; finding= selects a finding "
                                  f"in a result file, so leave it out")
        _field(document, "scenario", where, "", "the scenario's name or null", str, None)
        return _trace(_field(document, "trace", where, "", "a trace object", dict), where, "trace.")
    findings = _list(document, "findings", where, "", "a list of findings")
    index = _pick(findings, finding, where)
    entry = _object(findings[index], where, f"findings[{index}]")
    return _trace(_field(entry, "trace", where, f"findings[{index}].", "a trace object", dict),
                  where, f"findings[{index}].trace.")


def _pick(findings: list, finding: int | str | None, where: str) -> int:
    kinds = [entry.get("kind") if isinstance(entry, dict) else None for entry in findings]
    listing = ", ".join(f"{i}: {kind!r}" for i, kind in enumerate(kinds[:20]))
    if finding is None:
        if len(findings) == 1:
            return 0
        if not findings:
            raise InvalidArgument(f"{where}: the result has no findings, so it holds no trace to load")
        raise InvalidArgument(f"{where}: the result has {len(findings)} findings ({listing}); "
                              f"say which trace to load with finding=<position> or finding=<kind> "
                              f"(--finding N or --finding KIND)")
    if type(finding) is int:
        if not 0 <= finding < len(findings):
            raise InvalidArgument(f"{where}: finding={finding} is out of range; the result has "
                                  f"{len(findings)} findings ({listing or 'none'})")
        return finding
    if finding not in kinds:
        raise InvalidArgument(f"{where}: the result has no finding of kind {finding!r}; "
                              f"its findings are ({listing or 'none'})")
    return kinds.index(finding)


def _read(source: Any) -> tuple[Any, str | None]:
    """Parsed JSON data from text, bytes, a path or a dict, and the path it came from."""
    if isinstance(source, dict):
        return source, None
    if isinstance(source, (bytes, bytearray)):
        return _parse(_decode_bytes(bytes(source), "load_trace"), "load_trace: the text"), None
    if isinstance(source, os.PathLike):
        return _parse_file(os.fspath(source))
    if isinstance(source, str):
        looks_like_json = source.lstrip().startswith(("{", "["))
        if not looks_like_json and os.path.exists(source):
            return _parse_file(source)
        try:
            return _loads(source), None
        except _NotJson as exc:
            if looks_like_json:
                raise InvalidArgument(f"load_trace: the text is not valid JSON: {exc}") from None
            raise InvalidArgument(f"load_trace takes JSON text or the path of a trace file; "
                                  f"{source[:60]!r} is neither a file nor valid JSON ({exc})") from None
    raise InvalidArgument(f"load_trace takes JSON text, a path or the parsed dict, got {type(source).__name__}")


#: The largest trace or result file read (bytes): a bigger one is refused before it is read.
MAX_FILE_BYTES = 256 * 1024 * 1024


def read_json_file(path: str | bytes | os.PathLike) -> Any:
    """The JSON data of an explorer file, read strictly: only a regular file of at most
    :data:`MAX_FILE_BYTES` (a FIFO, a device or ``/dev/zero`` is refused before it is
    opened), UTF-8, no key twice, no NaN, no nesting past Python's recursion limit.
    Every refusal is an :class:`InvalidArgument` naming the file."""
    return _parse_file(os.fspath(path))[0]


def _parse_file(path: str | bytes) -> tuple[Any, str]:
    name = os.fsdecode(path)
    try:
        refusal = _not_readable(os.stat(path))
        if refusal:
            raise InvalidArgument(f"load_trace: file {name!r} {refusal}")
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidArgument):
            raise
        raise InvalidArgument(f"load_trace: cannot read file {name!r}: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidArgument(f"load_trace: file {name!r} is larger than {MAX_FILE_BYTES:,} bytes; "
                              f"explorer's trace and result files are far smaller: is it the right file?")
    where = f"file {name!r}"
    return _parse(_decode_bytes(raw, where), where), name


def _not_readable(status: os.stat_result) -> str | None:
    """Why a file with this ``stat`` is not read, or None for a regular file of a sane size."""
    mode = status.st_mode
    if stat.S_ISREG(mode):
        if status.st_size > MAX_FILE_BYTES:
            return (f"is larger than {MAX_FILE_BYTES:,} bytes ({status.st_size:,}); explorer's trace and "
                    f"result files are far smaller: is it the right file?")
        return None
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    return f"is {kind}, not a regular file: not read (explorer reads traces only from files)"


def _decode_bytes(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{where}: not UTF-8 text ({exc}); explorer writes its JSON as UTF-8") from None


def _parse(text: str, where: str) -> Any:
    try:
        return _loads(text)
    except _NotJson as exc:
        raise InvalidArgument(f"{where} is not valid JSON: {exc}") from None


class _NotJson(Exception):
    """Why a text is not strict JSON."""


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except _NotJson:
        raise
    except RecursionError:
        raise _NotJson("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an int too long to convert
        raise _NotJson(str(exc)) from None


def _reject_constant(name: str) -> None:
    tag = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(name, name)
    raise _NotJson(f"{name} is not JSON; explorer writes it as {{\"$float\": \"{tag}\"}}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _NotJson(f"an object has the key {duplicate!r} twice")
    return data


def _check_version(document: dict, where: str) -> None:
    version = _field(document, "version", where, "", f"the schema version, an integer up to {SCHEMA_VERSION}",
                     int)
    if version < 1:
        _fail(where, "version", f"the schema version, an integer from 1 to {SCHEMA_VERSION}", version)
    if version > SCHEMA_VERSION:
        raise InvalidArgument(f"{where}: version {version} is newer than this explorer reads "
                              f"(up to {SCHEMA_VERSION}); upgrade explorer to read it")


# ----------------------------------------------------------------------------------------------
# Results


def result_to_dict(result: ExplorationResult) -> dict[str, Any]:
    """A result as JSON data: the scenario, counts, final states and outcomes, findings with traces.

    ``final_states`` and ``outcomes`` are lists of ``{"state", ("returns",) "count"}``
    sorted by value; findings keep the result's order (errors first), and ``groups`` puts
    those of one kind about one subject together, as the CLI and the report show them.
    """
    if not isinstance(result, ExplorationResult):
        raise InvalidArgument(f"result_to_dict takes the ExplorationResult of explore(), "
                              f"got {type(result).__name__}")
    scenario = result.scenario
    final_states = [{"state": _state(state), "count": count} for state, count in result.final_states.items()]
    final_states.sort(key=lambda entry: _canonical(list(entry["state"].values())))
    outcomes = [
        {"state": _state(outcome.state), "returns": _state(outcome.returns), "count": count}
        for outcome, count in result.outcomes.items()
    ]
    outcomes.sort(key=lambda entry: _canonical([list(entry["state"].values()),
                                                list(entry["returns"].values())]))
    data = {
        "format": FORMAT,
        "version": SCHEMA_VERSION,
        "explorer_version": _explorer_version(),
        "scenario": {
            "name": scenario.name,
            "source": _short_path(scenario.source),
            "threads": list(scenario.thread_names),
            "variables": {name: _encode(value, 0) for name, value in scenario.variables.items()},
            "locks": dict(scenario.locks),
            "invariant": _function_name(scenario.invariant),
            "check": _function_name(scenario.check),
        },
        "strategy": result.strategy,
        "counts": {
            "executions": result.executions,
            "completed": result.completed,
            "deadlocked": result.deadlocked,
            "failed": result.failed,
            "truncated": result.truncated,
            "steps": result.steps,
        },
        "elapsed": result.elapsed,
        "complete": result.complete,
        "incomplete_reason": result.incomplete_reason,
        "stop_reason": result.stop_reason,
        "final_states": final_states,
        "outcomes": outcomes,
        "findings": [_finding(finding) for finding in result.findings],
        "groups": _groups(result.findings),
        "lock_order": [
            {"held": held, "acquired": acquired, "thread": thread, "holding": list(holding),
             "location": location}
            for held, acquired, thread, holding, location in result.lock_order
        ],
    }
    if result.states is not None:  # stateful search: what it stored (its bytes a state, measured
        data["states"] = {  # on this process's memory, vary as elapsed does: left out)
            "stored": result.states,
            "per_symmetry_class": bool(result.symmetric),
            "symmetric": [list(group) for group in result.symmetric],
            "collision_probability": result.collision_probability,
        }
    if result.fair:  # explore(fair=True): only fair schedules were explored
        data["fair"] = True
    if result.contenders:  # strategy="auto": which strategies took turns (their seconds vary: left out)
        data["contenders"] = [{"strategy": name, "executions": executions}
                              for name, executions, _seconds in result.contenders]
    return data


@provides
def result_to_json(result: ExplorationResult, *, indent: int | None = 2) -> str:
    """:func:`result_to_dict` as text: strict JSON (no NaN), ASCII, deterministic apart from ``elapsed``."""
    return _dumps(result_to_dict(result), indent)


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "severity": finding.severity,
        "message": finding.message,
        "thread": finding.thread,
        "occurrences": finding.occurrences,
        "details": _plain(finding.details),
        "trace": trace_to_dict(finding.trace),
    }


def _groups(findings: list[Finding]) -> list[dict[str, Any]]:
    """The findings of one kind about one subject together, as a result shows them
    (:func:`explorer.findings.group_findings`); each names its findings by position."""
    position = {id(finding): number for number, finding in enumerate(findings)}
    return [{
        "kind": group.kind,
        "severity": group.severity,
        "subject": group.subject,
        "summary": group.summary,
        "findings": [position[id(finding)] for finding in group],
        "outcomes": [{"outcome": outcome, "executions": runs} for outcome, runs in group.outcomes],
    } for group in group_findings(findings)]


def _state(state: State | Outcome) -> dict[str, Any]:
    return {name: _encode(value, 0) for name, value in state.items()}


def _function_name(function: object) -> str | None:
    if function is None:
        return None
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or _safe_repr(function)
    return f"{module}.{name}" if module else name


def _short_path(source: str) -> str:
    """``file:line`` relative to the working directory when inside it, like event locations."""
    path, colon, line = source.rpartition(":")
    if not colon:
        return source
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return source
    return source if relative.startswith("..") else f"{relative}:{line}"


def _explorer_version() -> str:
    from ._version import __version__

    return __version__


def _dumps(document: dict, indent: int | None) -> str:
    if indent is not None and (type(indent) is not int or indent < 0):
        raise InvalidArgument(f"indent must be None (one line) or a number of spaces (0 or more), got {indent!r}")
    return json.dumps(document, indent=indent, allow_nan=False, ensure_ascii=True)


# ----------------------------------------------------------------------------------------------
# Reading fields strictly


def _describe(value: Any) -> str:
    names = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "list",
             dict: "object"}
    name = names.get(type(value), type(value).__name__)
    if type(value) in (bool, int, float, str):
        text = repr(value)
        return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"
    return name


def _fail(where: str, path: str, expected: str, got: Any) -> None:
    raise InvalidArgument(f"{where}: field {path!r} must be {expected}, got {_describe(got)}")


def _missing(where: str, path: str, expected: str) -> None:
    raise InvalidArgument(f"{where}: field {path!r} is missing; expected {expected}")


def _object(data: Any, where: str, path: str) -> dict:
    if type(data) is not dict:
        _fail(where, path, "a JSON object", data)
    return data


def _field(obj: dict, name: str, where: str, prefix: str, expected: str, *types: type | None) -> Any:
    """``obj[name]``, which must be present and of one of ``types`` (``None`` allows null)."""
    if name not in obj:
        _missing(where, prefix + name, expected)
    value = obj[name]
    if types and not any(value is None if kind is None else type(value) is kind for kind in types):
        _fail(where, prefix + name, expected, value)
    return value


def _list(obj: dict, name: str, where: str, prefix: str, expected: str) -> list:
    return _field(obj, name, where, prefix, expected, list)


def _mapping(obj: dict, name: str, where: str, prefix: str, expected: str) -> dict:
    return _field(obj, name, where, prefix, expected, dict)


def _name(value: Any, where: str, path: str, expected: str) -> None:
    if type(value) is not str or not value:
        _fail(where, path, expected, value)
