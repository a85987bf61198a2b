"""explorer beside the SPIN model checker: the same scenarios, each searched completely by both, in one run.

    python benchmarks/bench_spin.py                     # the issue's rows (up to 10 minutes per strategy)
    python benchmarks/bench_spin.py --quick             # small sizes, short limits: well under a minute
    python benchmarks/bench_spin.py --big               # adds counter 4x4 (SPIN: 3.9M states, seconds)
    python benchmarks/bench_spin.py --big --spin-keep-locals  # the issue's 34.9M states (pan ~100 s, 2.2 GiB)
    python benchmarks/bench_spin.py --rows counter-3x4,philosophers-8 --strategies stateful,dpor,exhaustive
    python benchmarks/bench_spin.py --rows philosophers-6 --strategies stateful,stateful-no-symmetry
    python benchmarks/bench_spin.py --strategies auto,dpor,stateful   # auto: dpor and stateful in turns
    python benchmarks/bench_spin.py --json FILE         # also write every measured row as JSON

SPIN 6.5.2 comes from Debian's package (`apt-get install -y spin`; gcc builds its verifier). It is
installed that way for this benchmark only and is never a dependency of explorer; without it the
SPIN columns say "not installed" and explorer's rows still run (with no verdict to compare).

Each row is one scenario (its thread bodies are generator functions in this file; threads that run
the same body with the same arguments share one function object). "counter NxK" is N threads each
adding one to x K times, a read of x and then a write of x + 1, so updates can be lost; "locked
counter NxK" holds one lock around each read and write; "philosophers N" is the classic table of N
forks, each philosopher taking its left fork then its right one, adding one to a shared `meals`
(a read, then a write) and putting down the right fork and then the left: a deadlock is reachable
(every philosopher holding its left fork), and so are lost meals (two philosophers who share no
fork eat at once).

SPIN: the row's Promela model (promela() below) is written to a temporary directory and run end to
end: `spin -a model.pml`, `gcc -O2 -DSAFETY -DPRINTF -DMEMLIM=16384 -o pan pan.c`, `./pan -m<depth>
-c0 -n` (depth: twice the steps, and more). The model has one Promela statement, one atomic step, per
explorer step: a read into a local `v = x`, a write `atomic { x = v + 1; v = 0 }`, an acquire
`atomic { lock == 0 -> lock = 1 }`, a release `lock = 0`; each thread's last step also counts it
finished, inside its atomic step. The write resets the local it wrote from, which is dead from there
on: SPIN's own dead-variable elimination does not catch it, and without the reset pan stores states
that differ only in values nothing reads again (--spin-keep-locals leaves it out: counter 4x3 then
has 3,067,735 states instead of 361,852, and counter 4x4 34,860,483 instead of 3,892,230: the
issue's "34.9 million"). A monitor process waits
until every thread has finished, then prints the counter (pan built with -DPRINTF runs printf in its
search), so one search gives the set of reachable final values; `-c0` keeps the search going past
errors, and its invalid end states (the model has no assertion) are the deadlocks. SPIN's figures
are the three commands together, wall clock; its MiB is pan's peak resident set size (os.wait4),
which is close to pan's own "total actual memory usage" (in the JSON) because pan clears its whole
hash table, 128 MiB at its default of 2**24 slots (pan grows it for larger searches). SPIN's
partial-order reduction stays on, as SPIN ships; here it removes nothing (-DNOREDUCE gives the same
state counts), since every step touches a shared variable and only purely local steps are ever
reduced. pan stores every state exactly: no bitstate hashing, no compression.

explorer: each strategy runs `explore(scenario, strategy=s, time_limit=...)` in a fresh subprocess
(this file with --child), so its peak MiB is that process's own (VmHWM, the interpreter and imports
included; JSON also has the figure before the search). Only keyword arguments that explore() has
are passed (inspect.signature), so a later explore() with more keywords keeps working. Its figures
are the explore() call's seconds, executions, `result.complete`, the final values of the counter
(result.final_states) and the deadlock verdict (result.deadlocked > 0). "exhaustive" enumerates
every interleaving and runs only on rows where that is feasible (the --quick ones); elsewhere it says
"skipped". Columns:

    SPIN states   pan's "states, stored"
    ratio         explorer's seconds / SPIN's (spin -a, gcc and pan together); ">" where explorer's
                  search stopped at its time limit
    mem ratio     explorer's peak MiB / pan's
    verdicts      the set of final values and the deadlock verdict, explorer's against SPIN's;
                  judged only when both searches are complete

The load average is printed at the start and at the end. Exit status 1 when a complete explorer
run's verdict differs from a complete SPIN run's.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from explorer import Scenario, acquire, explore, read, release, write  # noqa: E402
from explorer._engine.units import peak_mib  # noqa: E402  (this program's high-water mark: VmHWM)

# ---- the scenarios -------------------------------------------------------------------


def count_up(increments):
    for _ in range(increments):
        value = yield read("x")
        yield write("x", value + 1)


def count_up_locked(increments):
    for _ in range(increments):
        yield acquire("lock")
        value = yield read("x")
        yield write("x", value + 1)
        yield release("lock")


def philosopher(left, right):
    yield acquire(left)
    yield acquire(right)
    meals = yield read("meals")
    yield write("meals", meals + 1)
    yield release(right)
    yield release(left)


@dataclass(frozen=True)
class Row:
    key: str  # what --rows names
    kind: str  # "counter", "locked" or "philosophers"
    threads: int
    increments: int = 1
    exhaustive: bool = False  # whether enumerating every interleaving is feasible

    @property
    def name(self) -> str:
        if self.kind == "philosophers":
            return f"philosophers {self.threads}"
        return f"{'locked counter' if self.kind == 'locked' else 'counter'} {self.threads}x{self.increments}"

    @property
    def counter(self) -> str:
        return "meals" if self.kind == "philosophers" else "x"


#: The issue's rows; --big adds the last.
FULL = (Row("counter-3x4", "counter", 3, 4), Row("counter-4x3", "counter", 4, 3),
        Row("locked-4x3", "locked", 4, 3), Row("philosophers-8", "philosophers", 8))
BIG = (Row("counter-4x4", "counter", 4, 4),)
QUICK = (Row("counter-2x2", "counter", 2, 2, exhaustive=True),
         Row("counter-3x2", "counter", 3, 2, exhaustive=True),
         Row("locked-3x2", "locked", 3, 2, exhaustive=True),
         Row("philosophers-3", "philosophers", 3, exhaustive=True))
#: Rows only --rows names: the philosophers' tables between QUICK's and FULL's.
BETWEEN = tuple(Row(f"philosophers-{n}", "philosophers", n) for n in (4, 5, 6, 7))
ROWS = {row.key: row for row in QUICK + FULL + BIG + BETWEEN}


def forks(row: Row, seat: int) -> tuple[str, str]:
    return f"fork {seat}", f"fork {(seat + 1) % row.threads}"


def scenario(row: Row) -> Scenario:
    """The row as explorer sees it."""
    if row.kind == "philosophers":
        return Scenario(row.name, variables={"meals": 0}, locks=[f"fork {i}" for i in range(row.threads)],
                        threads={f"P{seat}": partial(philosopher, *forks(row, seat))
                                 for seat in range(row.threads)})
    # one function object for every thread: the threads are alike, and explorer can see it
    body = partial(count_up_locked if row.kind == "locked" else count_up, row.increments)
    return Scenario(row.name, variables={"x": 0}, locks=["lock"] if row.kind == "locked" else [],
                    threads={f"T{i}": body for i in range(row.threads)})


def steps(row: Row) -> dict[str, list[tuple[str, str]]]:
    """Each thread's steps, as the generators above take them: ("read", variable), ("write", variable)
    (the value read plus one: the only write these scenarios make), ("acquire", lock), ("release", lock)."""
    if row.kind == "philosophers":
        return {f"P{seat}": [("acquire", left), ("acquire", right), ("read", "meals"), ("write", "meals"),
                             ("release", right), ("release", left)]
                for seat, (left, right) in ((seat, forks(row, seat)) for seat in range(row.threads))}
    increment = [("read", "x"), ("write", "x")]
    if row.kind == "locked":
        increment = [("acquire", "lock"), *increment, ("release", "lock")]
    return {f"T{i}": increment * row.increments for i in range(row.threads)}


# ---- SPIN ----------------------------------------------------------------------------


def promela(row: Row, *, reset_locals: bool = True) -> str:
    """The row's Promela model: one statement per explorer step, and a monitor that prints the
    counter once every thread has finished (so pan -DPRINTF lists the reachable final values).

    With ``reset_locals``, a write also sets the local it wrote from back to 0, in the same atomic
    step: the value is dead from there on, and SPIN's own dead-variable elimination does not see it,
    so without the reset pan stores states that differ only in a value nothing will read again."""
    ident = partial(re.sub, r"\W", "_")
    threads = steps(row)
    named = [(kind, name) for body in threads.values() for kind, name in body]
    variables = sorted({name for kind, name in named if kind in ("read", "write")})
    locks = sorted({name for kind, name in named if kind in ("acquire", "release")})
    text = {"read": "v = {0}", "write": "atomic {{ {0} = v + 1; v = 0 }}" if reset_locals else "{0} = v + 1",
            "acquire": "atomic {{ {0} == 0 -> {0} = 1 }}", "release": "{0} = 0"}
    lines = [f"/* {row.name}: written by benchmarks/bench_spin.py, one statement per explorer step */"]
    lines += [f"byte {ident(name)} = 0;" for name in variables]
    lines += [f"bit {ident(name)} = 0;" for name in locks]
    lines.append("byte finished = 0;")
    for thread, body in threads.items():
        statements = [text[kind].format(ident(name)) for kind, name in body]
        last = statements.pop()
        if last.startswith("atomic"):  # one atomic step still (an acquire's test stays its guard)
            last = last[:-2] + "; finished++ }"
        else:
            last = f"atomic {{ {last}; finished++ }}"
        lines += ["", f"active proctype {ident(thread)}() {{", "    byte v;",
                  *(f"    {statement};" for statement in statements), f"    {last}", "}"]
    lines += ["", "active proctype monitor() {",
              f'end: finished == {len(threads)} -> printf("FINAL %d\\n", {ident(row.counter)})', "}", ""]
    return "\n".join(lines)


def spin_version() -> str | None:
    if shutil.which("spin") is None or shutil.which("gcc") is None:
        return None
    done = subprocess.run(["spin", "-V"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


#: pan may use this much memory (MiB) before it stops with "reached -DMEMLIM bound".
MEMLIM = 16_384


def run_spin(row: Row, *, reset_locals: bool = True) -> dict:
    """spin -a, gcc and pan on the row's model, timed together; what pan found."""
    with tempfile.TemporaryDirectory(prefix="bench_spin_") as folder:
        folder = Path(folder)
        (folder / "model.pml").write_text(promela(row, reset_locals=reset_locals))
        depth = 2 * sum(len(body) for body in steps(row).values()) + 100
        commands = (["spin", "-a", "model.pml"],
                    ["gcc", "-O2", "-DSAFETY", "-DPRINTF", f"-DMEMLIM={MEMLIM}", "-o", "pan", "pan.c"],
                    ["./pan", f"-m{depth}", "-c0", "-n"])
        started = time.perf_counter()
        for command in commands[:2]:
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed on {row.name}: {done.stdout}{done.stderr}")
        compiled = time.perf_counter()
        with open(folder / "pan.out", "w") as out:
            pan = subprocess.Popen(commands[2], cwd=folder, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(pan.pid, 0)
            pan.returncode = os.waitstatus_to_exitcode(status)
        finished = time.perf_counter()
        output = (folder / "pan.out").read_text()
    def number(pattern: str) -> float:  # pan writes large counts as 1.8577413e+08
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"pan's output on {row.name} has no match for {pattern!r}:\n{output[-2000:]}")
        return float(found.group(1))

    errors = int(number(r"errors: (\d+)"))
    invalid_ends = len(re.findall(r"invalid end state", output))
    incomplete = [reason for reason, found in (("max search depth too small", "max search depth too small"),
                                               ("memory limit", "reached -DMEMLIM bound"),
                                               ("out of memory", "out of memory")) if found in output]
    return {
        "seconds": finished - started, "pan seconds": finished - compiled,
        "states": int(number(r"^\s*([\d.e+]+) states, stored")),
        "transitions": int(number(r"^\s*([\d.e+]+) transitions")),
        "depth": int(number(r"depth reached (\d+)")),
        "pan MiB": number(r"^\s*([\d.]+)\s+total actual memory usage"),
        "MiB": usage.ru_maxrss / 1024,
        "errors": errors,
        "finals": sorted({int(value) for value in re.findall(r"^FINAL (\d+)$", output, re.MULTILINE)}),
        # -c0 reports the first error in full and counts the rest; every error here is an
        # invalid end state (the model has no assertion), which is a deadlock
        "deadlock": errors > 0 and invalid_ends > 0,
        "complete": pan.returncode == 0 and not incomplete,
        "incomplete reason": "; ".join(incomplete) or None,
    }


# ---- explorer, each strategy in its own process ----------------------------------------


def explore_options(**wanted) -> dict:
    """Only the keywords that this explorer's explore() takes."""
    accepted = inspect.signature(explore).parameters
    return {name: value for name, value in wanted.items() if name in accepted}


def child(key: str, strategy: str, limit: float) -> None:
    """Run one strategy on one row and print what it found as one JSON line."""
    row = ROWS[key]
    warm = Scenario("warm-up", variables={"x": 0}, threads={"T": partial(count_up, 1)})
    explore(warm, **explore_options(strategy=strategy.split("-")[0]))  # imports and first calls stay out
    built = scenario(row)
    before = peak_mib()
    started = time.perf_counter()
    options = {"strategy": "stateful", "symmetry": False} if strategy == "stateful-no-symmetry" else {
        "strategy": strategy}
    result = explore(built, **explore_options(time_limit=limit, **options))
    seconds = time.perf_counter() - started
    finals = sorted({dict(state)[row.counter] for state in result.final_states})
    print(json.dumps({"seconds": seconds, "executions": result.executions, "steps": result.steps,
                      "states": result.states, "symmetric": [list(group) for group in result.symmetric],
                      "complete": result.complete, "incomplete reason": result.incomplete_reason,
                      "finals": finals, "deadlock": result.deadlocked > 0, "MiB": peak_mib(),
                      "strategy": result.strategy, "contenders": [list(entry) for entry in result.contenders],
                      "bytes per state": result.bytes_per_state,
                      "MiB before": before}))


def run_explorer(row: Row, strategy: str, limit: float) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", row.key, strategy, str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3 * limit + 300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()
        return {"error": f"exited with {done.returncode}: {tail[-1] if tail else ''}"}
    return json.loads(lines[-1])


# ---- the table -------------------------------------------------------------------------


def shown(values: list[int]) -> str:
    """{2..12}, or {1, 3} where the values are not a run."""
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{{{values[0]}..{values[-1]}}}"
    return "{" + ", ".join(map(str, values)) + "}"


def times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def verdict(spin: dict | None, ours: dict) -> tuple[str, bool]:
    """The verdicts cell, and whether it is a mismatch that fails the run."""
    if spin is None or not spin["complete"]:
        return "- (no complete SPIN run)", False
    if not ours["complete"]:
        return "- (explorer incomplete)", False
    same = ours["finals"] == spin["finals"] and ours["deadlock"] == spin["deadlock"]
    if same:
        return "yes", False
    return (f"NO: explorer {shown(ours['finals'])}, deadlock {ours['deadlock']}; "
            f"SPIN {shown(spin['finals'])}, deadlock {spin['deadlock']}"), True


def table(measured: list[dict]) -> tuple[list[list[str]], bool]:
    cells = [["scenario", "SPIN states", "SPIN s", "SPIN MiB", "strategy", "explorer s", "ratio",
              "explorer MiB", "mem ratio", "verdicts equal", "complete"]]
    failed = False
    for line in measured:
        spin = line["spin"]
        if spin is None:
            spin_cells = ["not installed", "-", "-"]
        else:
            spin_cells = [f"{spin['states']:,}" + ("" if spin["complete"] else "+"), f"{spin['seconds']:.2f}",
                          f"{spin['MiB']:,.1f}"]
        for strategy, ours in line["explorer"].items():
            if "skipped" in ours or "error" in ours:
                cells.append([line["scenario"], *spin_cells, strategy, ours.get("skipped") or ours["error"],
                              "", "", "", "", ""])
                continue
            said, bad = verdict(spin, ours)
            failed |= bad
            # a search stopped by its time limit would have taken longer: its ratio is a lower bound
            ratio = (">" * (not ours["complete"]) + times(ours["seconds"] / spin["seconds"])) if spin else "-"
            mem = times(ours["MiB"] / spin["MiB"]) if spin else "-"
            complete = "yes" if ours["complete"] else f"no: {ours['incomplete reason']}"
            cells.append([line["scenario"], *spin_cells, strategy, f"{ours['seconds']:,.2f}", ratio,
                          f"{ours['MiB']:,.1f}", mem, said,
                          complete + f" ({ours['executions']:,} executions)"])
    return cells, failed


def markdown(cells: list[list[str]]) -> str:
    widths = [max(len(line[column]) for line in cells) for column in range(len(cells[0]))]
    numeric = [column in (1, 2, 3, 5, 6, 7, 8) for column in range(len(widths))]
    lines = ["| " + " | ".join(cell.rjust(width) if right else cell.ljust(width)
                               for cell, width, right in zip(line, widths, numeric)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 1) + (":" if right else "-")
                                   for width, right in zip(widths, numeric)) + "|")
    return "\n".join(lines)


def load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short limits, to check the script runs")
    parser.add_argument("--big", action="store_true", help="add counter 4x4")
    parser.add_argument("--rows", help=f"comma-separated rows, any of: {', '.join(ROWS)}")
    parser.add_argument("--strategies", default="stateful,dpor",
                        help="comma-separated explorer strategies (default stateful,dpor; exhaustive runs "
                             "only where feasible; stateful-no-symmetry: stateful with symmetry=False; auto: "
                             "dpor and stateful in turns, the line names the one that finished first)")
    parser.add_argument("--time-limit", type=float,
                        help="seconds per strategy and row (600; 20 with --quick)")
    parser.add_argument("--spin-keep-locals", action="store_true",
                        help="SPIN's model without the reset of each dead local (more states: see promela())")
    parser.add_argument("--json", metavar="FILE", help="also write every measured row to FILE as JSON")
    parser.add_argument("--child", nargs=3, metavar=("ROW", "STRATEGY", "LIMIT"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(options.child[0], options.child[1], float(options.child[2]))
        return 0
    if options.rows:
        unknown = [key for key in options.rows.split(",") if key not in ROWS]
        if unknown:
            parser.error(f"unknown rows {unknown}; the rows are {', '.join(ROWS)}")
        rows = [ROWS[key] for key in options.rows.split(",")]
    else:
        rows = list(QUICK if options.quick else FULL + (BIG if options.big else ()))
    strategies = options.strategies.split(",")
    limit = options.time_limit or (20.0 if options.quick else 600.0)
    version = spin_version()
    print(f"{version or 'SPIN: not installed (apt-get install -y spin)'}; explorer strategies "
          f"{', '.join(strategies)}, {limit:g} s each; python {sys.version.split()[0]}")
    started = load()
    print(f"{started} at the start", flush=True)
    measured = []
    for row in rows:
        spin = run_spin(row, reset_locals=not options.spin_keep_locals) if version else None
        if spin is not None:
            print(f"{row.name}: SPIN {spin['states']:,} states in {spin['seconds']:.2f} s "
                  f"(pan {spin['pan seconds']:.2f} s), final {row.counter} in {shown(spin['finals'])}, "
                  f"deadlock {'yes' if spin['deadlock'] else 'no'}"
                  + ("" if spin["complete"] else f", INCOMPLETE: {spin['incomplete reason']}"), flush=True)
        ours = {}
        for strategy in strategies:
            if strategy == "exhaustive" and not row.exhaustive:
                ours[strategy] = {"skipped": "skipped: too many interleavings"}
                continue
            ours[strategy] = run_explorer(row, strategy, limit)
            found = ours[strategy]
            if "error" not in found:
                stored = found.get("states")
                chose = (f" ({found['strategy']} finished first; "
                         + ", ".join(f"{name} {runs:,} executions in {seconds:.2f} s"
                                     for name, runs, seconds in found["contenders"]) + ")"
                         if found.get("contenders") else "")
                print(f"  explorer {strategy}{chose}: {found['seconds']:.2f} s, {found['executions']:,} executions, "
                      + ("" if stored is None else f"{stored:,} states"
                         + (" (per symmetry class)" if found.get("symmetric") else "")
                         + (f" at {found['bytes per state']:.0f} B each" if found.get("bytes per state") else "")
                         + ", ") +
                      f"final {row.counter} in {shown(found['finals'])}, deadlock "
                      f"{'yes' if found['deadlock'] else 'no'}, "
                      + ("complete" if found["complete"] else f"incomplete: {found['incomplete reason']}"),
                      flush=True)
        measured.append({"scenario": row.name, "row": row.key, "spin": spin, "explorer": ours})
    ended = load()
    print(f"\n{started} at the start, {ended} at the end")
    cells, failed = table(measured)
    print(markdown(cells))
    if failed:
        print("VERDICT MISMATCH: a complete explorer run and SPIN disagree (see the verdicts column)")
    if options.json:
        written = {"spin": version, "load": [started, ended], "time limit": limit,
                   "spin resets dead locals": not options.spin_keep_locals, "rows": measured}
        Path(options.json).write_text(json.dumps(written, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
