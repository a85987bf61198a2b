"""explorer beside its Python peers, frontrun, ploom and interleave-test: the same scenarios, in one run.

    python benchmarks/bench_peers.py                  # every tool (about 4 minutes, more on the first run)
    python benchmarks/bench_peers.py --explorer-only  # explorer's rows only: no peer, no network
    python benchmarks/bench_peers.py --explorer-only --quick  # each row timed once: counts, rough times
    python benchmarks/bench_peers.py --json FILE      # also write every row as JSON
    python benchmarks/bench_peers.py --plain          # the plain-code rows only (explorer.program, frontrun)
    python benchmarks/bench_peers.py --peers frontrun # explorer beside one peer (or a comma-separated few)
    python benchmarks/bench_peers.py --peers frontrun --rounds 5  # each row's median of 5 rounds

Each peer lives only in its own virtual environment, benchmarks/.venvs/<tool>, which the first run
creates from the pinned benchmarks/requirements-peers-<tool>.txt with the Python that pyenv provides
(frontrun and ploom: 3.13, interleave-test: 3.12; if `pyenv prefix 3.13` finds none, `pyenv install
3.13` first). None of them is a dependency of explorer. A peer that cannot be installed or run is
reported as "not installed: <reason>", and the other tools still run.

explorer runs in this process; each peer runs its driver from benchmarks/peers/ in a subprocess, in
its venv. Every tool times only its exploration, inside its own process, with the same rule
(peers/_measure.py: a warm-up call, then the mean of calls adding up to 0.2 s, or a single call of
2 s or more). Scenarios: "counter NxK" is N threads each adding one to x K times (a read of x, then
a write of x + 1: an update can be lost); the 2-thread counter with a lock around the read and the
write (no bug); and the ABBA deadlock (two threads take locks a and b in opposite orders). The small
scenarios (2x1, 3x1, locked, ABBA) show the cost of a whole search, fixed costs included; on the
counters 2x3 (924 interleavings) and 2x4 (12,870), where every tool runs each of its every-schedule
modes for hundreds or thousands of executions (stopped by a budget where that would take minutes),
the rate is the steady cost of one execution. A separate line gives explorer's fixed cost per
explore() call: a whole call with a single execution and nothing to report, and, on the 2-thread
counter, the time spent after the search loop building the findings. Each peer's driver writes
the scenarios the way its README does, in its documented modes; the mode column names each, and the
drivers' docstrings say what counts as an execution. Columns:

    executions   runs the tool made (counterexample replays and minimizing included); "N+" when a
                 budget stopped it
    bug found    whether the tool reported the lost update or the deadlock ("not checked" when the
                 assertion was removed so that a tool which stops at the first failure enumerates
                 every schedule)
    rate ratio   explorer's exhaustive executions per second on the scenario / this row's
    dpor vs      explorer's dpor executions on the scenario, against this row's executions

Plain code, unmodified (a second table): the classes of peers/plain_code.py, frontrun's README
Counter (two workers increment it) and the seed notebook's FakeDatabase (two or three workers
update it; logging and a sleep between its read and its write), run by frontrun.explore() on the
class itself (DPOR, with its defaults and over every schedule) and by explorer.program() in its
short form (setup=the class, threads=one method call each, check=the final value) and, for the
FakeDatabase, in its long form: the notebook's cell, two updates submitted to a ThreadPoolExecutor.
Each explorer row's "x frontrun ..." columns are its executions per second divided by frontrun's
in that mode on the same class (the issue's goal: 20 times or more). An explorer execution here
is a run of the whole program (its main thread included, which explorer also interleaves);
frontrun's executions include its 10 replays of a counterexample.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "peers")]

import _measure  # noqa: E402
from _measure import measure, outcome, row  # noqa: E402
from plain_code import Counter, FakeDatabase, notebook_cell, updater  # noqa: E402

from explorer import Scenario, explore, program, read, write  # noqa: E402
from scenarios.abba import abba_deadlock  # noqa: E402
from scenarios.counter import locked_counter  # noqa: E402

VENVS = HERE / ".venvs"
BUG_KINDS = {"lost-update", "deadlock"}


@dataclass(frozen=True)
class Peer:
    name: str
    python: str  # the minor version pyenv must provide
    command: tuple[str, ...]  # inside the venv's bin/, before the driver's path
    driver: str

    @property
    def requirements(self) -> Path:
        return HERE / f"requirements-peers-{self.name}.txt"


PEERS = (
    # frontrun.explore() runs only under the frontrun CLI, as its README says.
    Peer("frontrun", "3.13", ("frontrun", "python"), "frontrun_driver.py"),
    Peer("ploom", "3.13", ("python",), "ploom_driver.py"),
    Peer("interleave-test", "3.12", ("python",), "interleave_test_driver.py"),
)


class NotInstalled(Exception):
    """Why a peer's venv could not be made: the benchmark reports it and goes on."""


def counter(threads: int, increments: int = 1) -> Scenario:
    """`threads` threads, each adding one to x `increments` times, a read and then a write."""
    def increment():
        for _ in range(increments):
            value = yield read("x")
            yield write("x", value + 1)
    return Scenario(f"counter {threads}x{increments}", variables={"x": 0},
                    threads={f"T{i}": increment for i in range(threads)})


def explorer_fixed_cost() -> dict:
    """What an explore() call costs beyond its executions, in seconds.

    "floor": a whole call on the 1-thread counter, which has one execution and nothing to report.
    "after the search": on the 2-thread counter, the call's time less its search loop's
    (result.elapsed): the findings' work (serial runs, replays that locate source lines, traces).
    """
    one, two = counter(1), counter(2)
    _, floor = measure(lambda: explore(one, strategy="exhaustive"))
    loops = []
    _, call = measure(lambda: loops.append(explore(two, strategy="exhaustive").elapsed))
    loop = sum(loops[1:]) / len(loops[1:])  # loops[0] is measure()'s warm-up
    return {"floor": floor, "scenario": two.name, "call": call, "after the search": call - loop}


def explorer_rows() -> list[dict]:
    scenarios = [counter(2), counter(3), locked_counter, abba_deadlock, counter(2, 3), counter(2, 4)]
    explore(scenarios[0], strategy="dpor")  # imports and first-call costs stay out of every row
    rows = []
    for scenario in scenarios:
        for strategy in ("exhaustive", "dpor"):
            def run(scenario=scenario, strategy=strategy):
                result = explore(scenario, strategy=strategy)
                bug = bool(BUG_KINDS & {finding.kind for finding in result.findings})
                return outcome(result.executions, bug, complete=result.complete)
            rows.append(row("explorer", strategy, scenario.name, run))
    return rows


#: The plain-code scenarios: name -> (class, number of workers); frontrun_driver.py's PLAIN.
PLAIN = {"Counter (frontrun README)": (Counter, 2), "FakeDatabase 2 threads": (FakeDatabase, 2),
         "FakeDatabase 3 threads": (FakeDatabase, 3)}
NOTEBOOK = "notebook cell (executor), "  # the mode's prefix for the long form


def plain_programs() -> list[tuple[str, str, Scenario]]:
    """(scenario, mode prefix, program): the short form on each class, and the notebook's cell."""
    programs = []
    for name, (cls, workers) in PLAIN.items():
        work = ({f"T{i}": cls.increment for i in range(workers)} if cls is Counter
                else {f"T{i}": updater(i) for i in range(workers)})
        programs.append((name, "", program(name, setup=cls, threads=work,
                                           check=lambda shared, workers=workers: shared.value == workers)))
    programs.append(("FakeDatabase 2 threads", NOTEBOOK,
                     program("FakeDatabase 2 threads", notebook_cell, track=[FakeDatabase])))
    return programs


def explorer_plain_rows() -> list[dict]:
    """explorer.program on the unmodified classes, exhaustive and dpor."""
    rows = []
    for scenario_name, prefix, scenario in plain_programs():
        for strategy in ("exhaustive", "dpor"):
            def run(scenario=scenario, strategy=strategy):
                result = explore(scenario, strategy=strategy)
                bug = bool((BUG_KINDS | {"invariant"}) & {finding.kind for finding in result.findings})
                return outcome(result.executions, bug, complete=result.complete)
            rows.append(row("explorer", prefix + strategy, scenario_name, run))
    return rows


def interpreter(version: str) -> str:
    """The Python `version` ("3.13") that pyenv provides, or else the one on PATH."""
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            return str(Path(found.stdout.split(":")[0].strip()) / "bin" / "python")
    plain = shutil.which(f"python{version}")
    if plain:
        return plain
    raise NotInstalled(f"no Python {version} (try: pyenv install {version})")


def venv(peer: Peer) -> Path:
    """The peer's venv, made from its pinned requirements unless it already holds exactly them."""
    home = VENVS / peer.name
    stamp = home / "installed-requirements.txt"
    wanted = peer.requirements.read_text()
    if stamp.exists() and stamp.read_text() == wanted:
        return home
    python = interpreter(peer.python)
    shutil.rmtree(home, ignore_errors=True)
    steps = ([python, "-m", "venv", str(home)],
             [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(peer.requirements)])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise NotInstalled(lines[-1] if lines else f"{step[0]} exited with {done.returncode}")
    stamp.write_text(wanted)
    return home


def peer_rows(peer: Peer, *arguments: str) -> tuple[list[dict], dict]:
    """The rows the peer's driver printed, and what to say about the peer (version, or why it is absent)."""
    try:
        home = venv(peer)
    except (NotInstalled, OSError, subprocess.TimeoutExpired) as error:
        return [], {"tool": peer.name, "error": f"not installed: {error}"}
    command = [str(home / "bin" / peer.command[0]), *peer.command[1:], str(HERE / "peers" / peer.driver),
               *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    except subprocess.TimeoutExpired:
        return [], {"tool": peer.name, "error": "its driver ran for more than an hour"}
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    about = next((line for line in printed if "version" in line), {"tool": peer.name})
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        about = {**about, "error": f"driver exited with {done.returncode}: {lines[-1] if lines else ''}"}
    return [line for line in printed if "version" not in line], about


def lower_median(values: list):
    """The median of ``values``, the lower of the middle two when there is an even number."""
    return sorted(values)[(len(values) - 1) // 2]


def median_rows(rounds: list[list[dict]]) -> list[dict]:
    """One row per (tool, mode, scenario), in the first round's order: the round whose rate
    is the median (the lower of the middle two), with every round's rate in ``rates``."""
    merged = {}
    for lines in rounds:
        for line in lines:
            merged.setdefault((line["tool"], line["mode"], line["scenario"]), []).append(line)
    chosen = []
    for lines in merged.values():
        rates = [line["executions"] / line["seconds"] for line in lines]
        median = lower_median(rates)
        chosen.append({**next(line for line, rate in zip(lines, rates) if rate == median), "rates": rates})
    return chosen


def count(value: int, complete: bool) -> str:
    return f"{value:,}" if complete else f"{value:,}+"


def table(rows: list[dict]) -> list[list[str]]:
    by_scenario = {}
    for line in rows:
        by_scenario.setdefault(line["scenario"], []).append(line)
    cells = [["scenario", "tool", "mode", "executions", "seconds", "exec/s", "bug found", "rate ratio", "dpor vs"]]
    for scenario, lines in by_scenario.items():
        ours = {line["mode"]: line for line in lines if line["tool"] == "explorer"}
        exhaustive, dpor = ours["exhaustive"], ours["dpor"]
        for line in lines:
            rate = line["executions"] / line["seconds"]
            theirs = line["tool"] != "explorer"
            bug = {True: "yes", False: "no", None: "not checked"}[line["bug"]]
            ratio = f"{exhaustive['executions'] / exhaustive['seconds'] / rate:,.0f}x" if theirs else ""
            versus = f"{dpor['executions']:,} vs {count(line['executions'], line['complete'])}" if theirs else ""
            cells.append([scenario, line["tool"], line["mode"], count(line["executions"], line["complete"]),
                          f"{line['seconds']:.4f}", f"{rate:,.0f}", bug, ratio, versus])
    return cells


FRONTRUN_MODES = ("dpor (defaults)", "dpor, every schedule")


def plain_table(rows: list[dict]) -> list[list[str]]:
    """The plain-code rows; on explorer's, its rate over frontrun's in each mode on the same class."""
    cells = [["scenario", "tool", "mode", "executions", "seconds", "exec/s", "bug found",
              *(f"x frontrun {mode}" for mode in FRONTRUN_MODES)]]
    for scenario in PLAIN:
        lines = [line for line in rows if line["scenario"] == scenario]
        theirs = {line["mode"]: line["executions"] / line["seconds"]
                  for line in lines if line["tool"] == "frontrun"}
        for line in lines:
            rate = line["executions"] / line["seconds"]
            ours = line["tool"] == "explorer"
            ratios = [(f"{rate / theirs[mode]:,.1f}x" if mode in theirs else "-") if ours else ""
                      for mode in FRONTRUN_MODES]
            bug = {True: "yes", False: "no", None: "not checked"}[line["bug"]]
            cells.append([scenario, line["tool"], line["mode"], count(line["executions"], line["complete"]),
                          f"{line['seconds']:.4f}", f"{rate:,.0f}", bug, *ratios])
    return cells


def markdown(cells: list[list[str]]) -> str:
    widths = [max(len(row_[column]) for row_ in cells) for column in range(len(cells[0]))]
    numeric = [column in (3, 4, 5, 7, 8) for column in range(len(widths))]
    lines = ["| " + " | ".join(cell.rjust(width) if right else cell.ljust(width)
                               for cell, width, right in zip(row_, widths, numeric)) + " |" for row_ in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 1) + (":" if right else "-")
                                   for width, right in zip(widths, numeric)) + "|")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explorer-only", action="store_true", help="run explorer's rows only")
    parser.add_argument("--plain", action="store_true",
                        help="only the plain-code rows: explorer.program and frontrun on unmodified classes")
    parser.add_argument("--json", metavar="FILE", help="also write every row to FILE as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="time each of explorer's rows on one call after its warm-up: the same "
                             "counts and bugs, rough times (for the tests)")
    parser.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="run explorer's rows and the peers' N times, one after the other, and "
                             "show each row's median rate (a shared machine's speed drifts)")
    parser.add_argument("--peers", metavar="NAMES", default=",".join(peer.name for peer in PEERS),
                        help="the peers to run beside explorer, comma-separated (default: all of "
                             "%(default)s)")
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.peers.split(",") if name.strip()]
    unknown = sorted(set(chosen) - {peer.name for peer in PEERS})
    if unknown:
        parser.error(f"--peers: no peer named {', '.join(unknown)}; the peers are "
                     f"{', '.join(peer.name for peer in PEERS)}")
    if options.rounds < 1:
        parser.error("--rounds: at least 1")
    if options.quick:
        _measure.MIN_SECONDS = 0.0
    started = load()
    peers = () if options.explorer_only else tuple(peer for peer in PEERS if peer.name in chosen)
    if options.plain:
        peers = tuple(peer for peer in peers if peer.name == "frontrun")  # the only one that runs plain code
    rounds = []
    for _ in range(options.rounds):
        rows = [] if options.plain else explorer_rows()
        plain = explorer_plain_rows()
        about = [{"tool": "explorer", "version": "(this checkout)", "python": sys.version.split()[0]}]
        for peer in peers:
            found, said = peer_rows(peer, *(["--plain-only"] if options.plain else []))
            rows += [line for line in found if line["scenario"] not in PLAIN]
            plain += [line for line in found if line["scenario"] in PLAIN]
            about.append(said)
        rounds.append((rows, plain))
    fixed = None if options.plain else explorer_fixed_cost()
    rows, plain = median_rows([rows for rows, _ in rounds]), median_rows([plain for _, plain in rounds])
    if options.rounds > 1:
        print(f"each row: the median rate of {options.rounds} rounds (explorer's rows, then each peer's, "
              f"round after round). At steady state, round by round, explorer's exhaustive rate over each "
              f"peer mode's in the same round:")
        for line in rows:
            if line["scenario"] in ("counter 2x3", "counter 2x4") and line["tool"] != "explorer":
                ours = next(mine["rates"] for mine in rows if mine["tool"] == "explorer"
                            and mine["mode"] == "exhaustive" and mine["scenario"] == line["scenario"])
                ratios = [a / b for a, b in zip(ours, line["rates"])]
                print(f"  {line['scenario']}, {line['tool']} {line['mode']}: "
                      + ", ".join(f"{ratio:,.0f}x" for ratio in ratios)
                      + f" (median {lower_median(ratios):,.0f}x)")
    for said in about:
        where = said.get("error") or f"{said.get('version', '')} on Python {said['python']}".strip()
        print(f"{said['tool']}: {where}")
    print(f"{started} at the start, {load()} at the end")
    if rows:
        print(markdown(table(rows)))
    if fixed is not None:
        steady = next(line for line in rows if line["tool"] == "explorer" and line["mode"] == "exhaustive"
                      and line["scenario"] == "counter 2x4")
        print(f"explorer's fixed cost per explore() call: {fixed['floor'] * 1e3:.2f} ms with one execution and "
              f"nothing to report (counter 1x1); on {fixed['scenario']}, {fixed['after the search'] * 1e3:.2f} ms "
              f"of its {fixed['call'] * 1e3:.2f} ms come after the search (findings: serial runs, replays that "
              f"locate source lines, traces). At steady state one execution costs "
              f"{steady['seconds'] / steady['executions'] * 1e6:.0f} µs (counter 2x4, exhaustive).")
    print("\nPlain code, unmodified: explorer.program and frontrun on the same classes")
    print(markdown(plain_table(plain)))
    if options.json:
        written = {"tools": about, "rows": rows, "plain rows": plain}
        if fixed is not None:
            written["explorer fixed cost"] = fixed
        Path(options.json).write_text(json.dumps(written, indent=2) + "\n")
    return 0


def load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
