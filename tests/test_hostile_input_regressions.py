"""Faults found by a hunt with hostile input: each must stay a finding or a clear error,
never a crash, a hang, or the end of the explorer's process."""

import sys
import textwrap
import time

import pytest

from explorer import InvalidArgument, Scenario, ScenarioTypeError, explore, read, write
from explorer.cli import main


def _increment():
    value = yield read("x")
    yield write("x", value + 1)


def _counter(**options):
    return Scenario("counter", variables={"x": 0}, threads={"A": _increment, "B": _increment}, **options)


class _HashRaises:
    def __hash__(self):
        raise RuntimeError("no hash")


def test_a_written_or_returned_value_whose_hash_raises_is_an_error_finding_not_a_crash():
    def writes():
        yield write("x", _HashRaises())

    def returns():
        yield read("x")
        return _HashRaises()

    for threads in ({"A": writes}, {"A": returns}):
        (error,) = explore(Scenario("hash", variables={"x": 0}, threads=threads)).errors
        assert "whose hash() raised RuntimeError: no hash" in error.message


