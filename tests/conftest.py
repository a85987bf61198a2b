"""Shared pytest set-up: the two tiers, Ctrl-C for the command-line tests, and pytester (which
runs pytest itself, for the plugin tests).

The default run (the README's test command, and CI's) leaves out the deep tier, the tests
marked ``slow``: more and larger generated programs, and the seed notebook's biggest
searches. They show as skipped, with the command that runs them: ``-m slow`` runs that tier
alone, ``--deep`` both. A test named on the command line runs whatever its tier. In the deep
tier the heaviest generated tests of the default one draw their full number of examples
(``tests.helpers.examples``), and the real-thread cross-checks make four times the runs.
"""

import os
import signal
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DEEP_ENV = "EXPLORER_TESTS_DEEP"
DEEP_TIER = "the deep tier: python -m pytest -n auto -m slow runs it (--deep runs both tiers)"


def pytest_addoption(parser):
    parser.addoption("--deep", action="store_true", help="run the deep tier (tests marked slow) as well")


def pytest_configure(config):
    if deep(config):  # read by tests.helpers.examples, in every xdist worker too
        os.environ[DEEP_ENV] = "1"
    # A shell that starts a job in the background (nohup, &, some CI runners) makes it ignore
    # SIGINT, and so every process it starts: the tests that press Ctrl-C on `explorer run`
    # would then test nothing. Ctrl-C at a terminal is what they stand for.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def deep(config) -> bool:
    return bool(config.getoption("--deep") or "slow" in (config.getoption("markexpr") or ""))


def pytest_collection_modifyitems(config, items):
    if deep(config):
        return
    named = [arg for arg in config.args if "::" in arg]
    skip = pytest.mark.skip(reason=DEEP_TIER)
    for item in items:
        if item.get_closest_marker("slow") and not any(_names(arg, item) for arg in named):
            item.add_marker(skip)


def _names(arg: str, item) -> bool:
    """Whether the command-line argument ``arg`` (``FILE::TEST``) names ``item``, or the
    parametrized family it belongs to."""
    path, _, name = arg.partition("::")
    file, _, test = item.nodeid.partition("::")
    return Path(path).name == Path(file).name and (test == name or test.startswith(name + "["))
