"""Parallel exploration beside serial, in one run: speed-up per strategy, dpor's extra
executions, and a scaling model past this machine's cores.

    python benchmarks/bench_parallel.py                 # the rows: each takes 10 s or more serially
    python benchmarks/bench_parallel.py --quick         # small rows, seconds: checks the bench itself
    python benchmarks/bench_parallel.py --simulate      # also the makespan at 8 to 1,024 workers
    python benchmarks/bench_parallel.py --rows exhaustive,dpor --workers 2 --json FILE
    python benchmarks/bench_parallel.py --rows stateful --row-capacity  # the machine's capacity for that row's work
    python benchmarks/bench_parallel.py --inline --rows bounded,dpor  # what splitting costs, with no second core

Each row explores one scenario three times, each in its own fresh subprocess (this file with
--child): serially (``workers=1``, today's behaviour), then on ``--workers`` worker processes
(``backend="processes"``), then serially again; the serial figure is the faster of the two
serial runs, so a machine that got busier halfway does not flatter the parallel run. Columns:

    serial s     explore() seconds, workers=1
    parallel s   explore() seconds on the workers (the workers' start-up included)
    speed-up     serial / parallel
    executions   serial, then parallel (dpor and stateful may make more in parallel)
    extra        parallel executions / serial executions (dpor: the issue's bound is 1.05)
    pruned       dpor's abandoned runs (every thread asleep), serial / parallel
    units        work units the workers ran, and their median seconds (none: the coordinator
                 explored alone, as for dpor, which does not split)
    work         the units' seconds added up, over the serial seconds: what the workers did
                 together beside what one process does alone (their keys, shared table, replays
                 and states two of them explored). W workers are at most W / work times as fast
    steal s      CPU time the host took from this machine's cores during the parallel run
                 (/proc/stat; a shared host's other guests): a parallel figure with seconds of
                 it says more about the host than about explorer
    MiB          the serial process's peak resident memory, and the largest a worker reached
    same         whether the parallel result is the serial one: every count, final state and
                 finding for exhaustive, bounded, random and pct; for dpor the same but for the
                 abandoned runs; final states, outcomes and finding kinds for stateful

The scaling model (--simulate) replays the measured run on paper: the units' measured seconds
(the work), the coordinator's measured seconds per unit (what it spends on each piece that comes
back: unpickling it, queueing what it hands back, merging it), and the backend's per-task overhead
(measured here: a round trip of an empty task). W workers take units from one queue; each unit
costs its seconds plus the overhead on a worker, then its coordinator time on the one coordinator,
which handles one piece at a time. A unit that runs a full slice hands back more work, so the
work is cut finer as workers are added: the model keeps the total work and splits it into units of
the measured slice, at least W of them. It prints the makespan and the coordinator's busy share
at 8, 32, 128 and 1,024 workers, and the number of workers at which the coordinator would be busy
all the time (slice / coordinator seconds per unit): past it, more workers wait for it.

--inline measures what cutting a search into units costs, free of what the cores give:
each row runs serially, then cut into units of --slice seconds (default 0.3, about the
median unit of a two-worker run) that run one after another in this process, as a
backend would run them (the coordinator's pickling and merging included). Columns: both
times, the units, their ratio (the work the split adds), the racing pairs ranked
(a witness's rank, worked out for each pair a run shows until a better one is known:
tally._note_races) serially and in the units, and whether the results are the same.
Under load both times move together, so the ratio and the counts are what to read.

The load average is printed at the start and at the end: the machines are shared. So is what
the cores give: before the rows, the same serial search (exhaustive on counter 2x4, in fresh
processes) runs alone, then on W processes at once; W times the first's seconds over the mean
of the others' is the machine's *capacity*, the speed-up that W processes which share nothing
get here. A virtual machine whose cores share a host's often gives less than W: no row can
beat it, so each row's speed-up is also shown as a share of it. That search replays small
generators; a row whose own work uses the memory differently (the stateful walk's big dicts)
may get another capacity: --row-capacity also runs each row's serial search on W processes
at once and prints what W of them get, and the row's speed-up as a share of that.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_spin import count_up, count_up_locked  # noqa: E402  (the same thread bodies as beside SPIN)
from scenarios.indexer import indexer  # noqa: E402
from scenarios.lastzero import lastzero  # noqa: E402

from explorer import Scenario, explore  # noqa: E402
from explorer._engine import coordinator  # noqa: E402
from explorer._engine.units import peak_mib  # noqa: E402
from explorer.json_format import result_to_dict  # noqa: E402

SIMULATED = (8, 32, 128, 1024)


def counter(threads: int, increments: int, locked: bool = False) -> Scenario:
    body = partial(count_up_locked if locked else count_up, increments)
    return Scenario(f"{'locked ' if locked else ''}counter {threads}x{increments}", variables={"x": 0},
                    locks=["lock"] if locked else [], threads={f"T{i}": body for i in range(threads)})


def philosophers(seats: int) -> Scenario:
    """bench_spin.py's table: each philosopher its own two forks (seats, not twins)."""
    import bench_spin

    return bench_spin.scenario(bench_spin.Row(f"philosophers-{seats}", "philosophers", seats))


#: The scenarios the rows explore, by name.
SCENARIOS = {"counter": counter, "indexer": indexer, "lastzero": lastzero, "philosophers": philosophers}

#: row -> ((scenario name, its arguments), strategy, explore() options)
ROWS = {
    "exhaustive": (("counter", 2, 5), "exhaustive", {}),
    "bounded": (("counter", 4, 3), "bounded", {"preemptions": 3}),
    "dpor": (("counter", 3, 4, True), "dpor", {}),
    "dpor-index": (("indexer", 15), "dpor", {}),
    "dpor-last": (("lastzero", 13), "dpor", {}),
    # the rows take 10 s or more serially: stateful on counter 4x4 took 6.6 s (load 0.5) on
    # 2026-12-03, 5x3 13.7 s, 4x5 54 s
    "stateful": (("counter", 5, 3), "stateful", {}),
    "random": (("counter", 3, 4), "random", {"max_executions": 60_000}),
    # not among the issue's rows (run with --rows): seats fold the philosophers' rotations
    "stateful-seats": (("philosophers", 7), "stateful", {}),
}
QUICK = {
    "exhaustive": (("counter", 2, 3), "exhaustive", {}),
    "bounded": (("counter", 3, 2), "bounded", {}),
    "dpor": (("counter", 3, 2), "dpor", {}),
    "dpor-index": (("indexer", 13), "dpor", {}),
    "dpor-last": (("lastzero", 6), "dpor", {}),
    "stateful": (("counter", 3, 2), "stateful", {}),
    "random": (("counter", 2, 2), "random", {"max_executions": 2_000}),
    "stateful-seats": (("philosophers", 4), "stateful", {}),
}


def scenario_of(row: str, quick: bool) -> Scenario:
    (name, *args), _strategy, _options = (QUICK if quick else ROWS)[row]
    return SCENARIOS[name](*args)


def stolen() -> float:
    """Seconds of CPU time the host has taken from this machine's cores so far (the steal
    column of /proc/stat, in clock ticks); 0 where there is no such file."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def child(row: str, quick: bool, workers: int) -> None:
    """One exploration, in this fresh process; its figures as one JSON line."""
    _scenario, strategy, options = (QUICK if quick else ROWS)[row]
    if quick:  # small rows still split into units
        coordinator.FIRST_SLICE, coordinator.SLICE = 0.0, 0.02
    scenario = scenario_of(row, quick)
    steal = stolen()
    started = time.perf_counter()
    result = explore(scenario, strategy=strategy, workers=workers, **options)
    seconds = time.perf_counter() - started
    steal = stolen() - steal
    data = result_to_dict(result)
    data.pop("elapsed")
    findings = sorted({(f["kind"], f["severity"]) for f in data["findings"]})
    print(json.dumps({"seconds": seconds, "steal": steal, "executions": result.executions, "workers": result.workers,
                      "pruned": result.pruned, "unpruned": {k: v for k, v in data.items() if k != "pruned"},
                      "peak_mib": peak_mib(), "worker_peak_mib": result.worker_peak_mib,
                      "complete": result.complete, "unit_seconds": list(result.unit_seconds),
                      "coordinator_seconds": result.coordinator_seconds, "result": data,
                      "verdicts": {"final_states": data["final_states"] if strategy not in ("dpor", "stateful")
                                   else sorted(json.dumps(s["state"], sort_keys=True) for s in data["final_states"]),
                                   "outcomes": len(data["outcomes"]), "findings": findings}}))


def measure(row: str, quick: bool, workers: int, row_capacity: bool = False) -> dict:
    def run(count: int) -> dict:
        done = subprocess.run([sys.executable, __file__, "--child", row, "--workers", str(count)]
                              + (["--quick"] if quick else []), capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run(1)
    parallel = run(workers)
    second = run(1)
    serial = min(first, second, key=lambda figures: figures["seconds"])
    # the row's own serial search on ``workers`` processes at once: what this machine gives
    # this search's kind of work (a walk over big dicts shares the cores' caches unlike a
    # replay of small generators)
    together = []
    if row_capacity:
        started = [subprocess.Popen([sys.executable, __file__, "--child", row, "--workers", "1"]
                                    + (["--quick"] if quick else []), stdout=subprocess.PIPE, text=True)
                   for _ in range(workers)]
        together = [json.loads(process.communicate()[0].strip().splitlines()[-1])["seconds"] for process in started]
    strategy = (QUICK if quick else ROWS)[row][1]
    if strategy == "dpor":  # everything but the abandoned runs
        same = serial["unpruned"] == parallel["unpruned"]
    elif strategy == "stateful":
        same = serial["verdicts"] == parallel["verdicts"]
    else:
        same = serial["result"] == parallel["result"]
    return {"row": row, "strategy": strategy, "serial": serial["seconds"], "serial_again": second["seconds"],
            "parallel": parallel["seconds"], "speedup": serial["seconds"] / parallel["seconds"],
            "executions": (serial["executions"], parallel["executions"]),
            "pruned": (serial["pruned"], parallel["pruned"]),
            "extra": parallel["executions"] / max(serial["executions"], 1), "workers": parallel["workers"],
            "unit_seconds": parallel["unit_seconds"], "coordinator_seconds": parallel["coordinator_seconds"],
            "work": sum(parallel["unit_seconds"]) / serial["seconds"], "steal": parallel["steal"],
            "same": same, "complete": (serial["complete"], parallel["complete"]),
            "memory": (serial["peak_mib"], parallel["worker_peak_mib"]),
            "row_capacity": workers * serial["seconds"] / statistics.mean(together) if together else None,
            "together": together}


def calibration(quick: bool) -> float:
    """Seconds of a fixed serial search, in this fresh process (--calibrate)."""
    scenario = counter(2, 3 if quick else 4)
    explore(scenario, strategy="exhaustive")  # first-call costs stay out
    started = time.perf_counter()
    for _ in range(1 if quick else 3):
        explore(scenario, strategy="exhaustive")
    return time.perf_counter() - started


def capacity(workers: int, quick: bool) -> tuple[float, float, list[float]]:
    """The speed-up ``workers`` processes that share nothing get on this machine: the
    calibration's seconds alone (the mean of a run before and one after), and on
    ``workers`` processes at once."""
    def started():
        return subprocess.Popen([sys.executable, __file__, "--calibrate"] + (["--quick"] if quick else []),
                                stdout=subprocess.PIPE, text=True)

    def seconds(process) -> float:
        out, _ = process.communicate()
        return float(out.strip().splitlines()[-1])

    before = seconds(started())
    together = [seconds(process) for process in [started() for _ in range(workers)]]
    alone = (before + seconds(started())) / 2
    return workers * alone / statistics.mean(together), alone, together


def task_overhead(samples: int = 200) -> float:
    """Seconds per empty task, round trip, on two local worker processes."""
    from explorer.backends.processes import ProcessBackend

    backend = ProcessBackend(2)
    try:
        backend.submit(int).result()
        started = time.perf_counter()
        futures = [backend.submit(int) for _ in range(samples)]
        for future in futures:
            future.result()
        return (time.perf_counter() - started) / samples * 2  # two at a time: per task, per worker
    finally:
        backend.close()


def makespan(units: list[float], workers: int, overhead: float, per_unit: float) -> tuple[float, float]:
    """(seconds, the coordinator's busy share) for ``units`` on ``workers`` workers and one
    coordinator that spends ``per_unit`` seconds on each piece that comes back."""
    idle = [0.0] * workers  # when each worker is next free
    heapq.heapify(idle)
    coordinator_free = 0.0
    busy = 0.0
    finished = 0.0
    for seconds in units:
        start = heapq.heappop(idle)
        done = start + overhead + seconds
        handled = max(done, coordinator_free) + per_unit  # the coordinator takes pieces one at a time
        coordinator_free = handled
        busy += per_unit
        # the worker gets its next unit once the coordinator has handled what it sent back
        heapq.heappush(idle, handled)
        finished = max(finished, handled)
    return finished, busy / finished if finished else 0.0


def simulate(measured: dict, overhead: float) -> list[dict]:
    units = measured["unit_seconds"]
    if not units:
        return []
    work = sum(units)
    per_unit = measured["coordinator_seconds"] / len(units)
    slice_seconds = max(units)  # a unit that runs its whole slice stops at it
    rows = []
    for workers in SIMULATED:
        count = max(int(work / slice_seconds) + 1, workers)
        cut = [work / count] * count
        seconds, share = makespan(cut, workers, overhead, per_unit)
        rows.append({"workers": workers, "makespan": seconds, "coordinator_busy": share,
                     "speedup": measured["serial"] / seconds})
    limit = slice_seconds / per_unit if per_unit else float("inf")
    return [{"row": measured["row"], "per_unit": per_unit, "slice": slice_seconds, "limit": limit, "at": rows}]


class _Inline:
    """A backend that runs each unit at once, in this process (--inline)."""

    name = "inline"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def submit(self, fn, /, *args):
        from concurrent.futures import Future

        from explorer._engine.units import let_go

        future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # as a pool hands back what a task raised (a walk that must restart)
            future.set_exception(exc)
        self.let_go = let_go
        return future

    def close(self, *, cancel: bool = False) -> None:
        let_go = getattr(self, "let_go", None)
        if let_go is not None:
            let_go()  # the patches a unit's compiled scenario put on this process come off


def inline(rows: list[str], quick: bool, workers: int, slice_seconds: float) -> list[dict]:
    """Each row serially, then cut into units of ``slice_seconds`` run one after another here."""
    from explorer.detectors.races import RacePairs

    explore_module = sys.modules["explorer.explore"]
    ranked = [0]
    rank = RacePairs.rank

    def counted(self, *args):
        ranked[0] += 1
        return rank(self, *args)

    saved = explore_module.prepare, RacePairs.rank, coordinator.SLICE, coordinator.FIRST_SLICE
    explore_module.prepare = lambda name, count, address: (lambda: _Inline(workers))
    RacePairs.rank, coordinator.SLICE = counted, slice_seconds
    if quick:  # small rows still split into units
        coordinator.FIRST_SLICE, coordinator.SLICE = 0.0, 0.02
    print(f"{'row':<11} {'scenario':<22} {'serial s':>9} {'inline s':>9} {'units':>6} {'work':>6} "
          f"{'ranked serially':>16} {'in units':>10}  same")
    measured = []
    try:
        for row in rows:
            _scenario, strategy, options = (QUICK if quick else ROWS)[row]
            scenario = scenario_of(row, quick)
            runs = []
            for count in (1, workers, 1):  # serial again after: the faster serial run counts
                ranked[0] = 0
                started = time.perf_counter()
                result = explore(scenario, strategy=strategy, workers=count, **options)
                runs.append((time.perf_counter() - started, ranked[0], result))
            (serial, serial_ranks, one), (cut, cut_ranks, other) = min(runs[0], runs[2], key=lambda run: run[0]), runs[1]
            data = [result_to_dict(result) for result in (one, other)]
            for entry in data:
                entry.pop("elapsed")
                if strategy in ("dpor", "stateful"):
                    entry.pop("pruned", None)
            same = data[0] == data[1] if strategy != "stateful" else \
                (data[0]["final_states"], data[0]["outcomes"]) == (data[1]["final_states"], data[1]["outcomes"])
            print(f"{row:<11} {scenario.name:<22} {serial:>9.2f} {cut:>9.2f} {len(other.unit_seconds):>6} "
                  f"{cut / serial:>6.2f} {serial_ranks:>16,} {cut_ranks:>10,}  {'yes' if same else 'NO'}", flush=True)
            measured.append({"row": row, "serial": serial, "inline": cut, "units": len(other.unit_seconds),
                             "ranked": (serial_ranks, cut_ranks), "same": same})
    finally:
        explore_module.prepare, RacePairs.rank, coordinator.SLICE, coordinator.FIRST_SLICE = saved
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--rows", default=None, help="comma-separated rows: " + ",".join(ROWS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", dest="json_file", default=None)
    parser.add_argument("--row-capacity", action="store_true",
                        help="also run each row's serial search on --workers processes at once: the capacity "
                             "for that row's own work")
    parser.add_argument("--inline", action="store_true",
                        help="run each row's units one after another in this process: what splitting costs")
    parser.add_argument("--slice", type=float, default=0.3, help="--inline: seconds per unit")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.quick, args.workers)
        return 0
    if args.calibrate:
        print(calibration(args.quick))
        return 0
    rows = args.rows.split(",") if args.rows else [row for row in ROWS if row != "stateful-seats"]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    if args.inline:
        measured = inline(rows, args.quick, args.workers, args.slice)
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.json_file:
            Path(args.json_file).write_text(json.dumps(measured, indent=1))
        return 0 if all(figures["same"] for figures in measured) else 1
    most, alone, together = capacity(args.workers, args.quick)
    print(f"capacity: {args.workers} processes at once ran {most:.2f} times as fast as one (a serial search "
          f"{alone:.2f} s alone, the mean of a run before and one after; {', '.join(f'{t:.2f}' for t in together)} s side by side)")
    print(f"{'row':<11} {'scenario':<22} {'serial s':>9} {'parallel s':>10} {'speed-up':>8} {'of cap.':>7} "
          f"{'executions':>17} {'extra':>6} {'pruned':>15} {'units':>6} {'median':>7} {'work':>5} {'steal s':>7} "
          f"{'MiB serial/worker':>17}  same")
    measured = []
    for row in rows:
        figures = measure(row, args.quick, args.workers, args.row_capacity)
        measured.append(figures)
        units = figures["unit_seconds"]
        print(f"{row:<11} {scenario_of(row, args.quick).name:<22} {figures['serial']:>9.2f} {figures['parallel']:>10.2f} "
              f"{figures['speedup']:>8.2f} {figures['speedup'] / most:>7.0%} {figures['executions'][0]:>8,}/{figures['executions'][1]:<8,} "
              f"{figures['extra']:>6.3f} {figures['pruned'][0]:>7,}/{figures['pruned'][1]:<7,} {len(units):>6} {statistics.median(units) if units else 0:>7.3f} "
              f"{figures['work']:>5.2f} {figures['steal']:>7.1f} "
              f"{figures['memory'][0]:>8.0f}/{figures['memory'][1]:<8.0f}  "
              f"{'yes' if figures['same'] else 'NO'}", flush=True)
        if figures["row_capacity"] is not None:
            print(f"{'':<11} its own serial search on {args.workers} processes at once: "
                  f"{', '.join(f'{t:.2f}' for t in figures['together'])} s, a capacity of "
                  f"{figures['row_capacity']:.2f} for this row (its speed-up is "
                  f"{figures['speedup'] / figures['row_capacity']:.0%} of it)", flush=True)
    simulated = []
    if args.simulate:
        overhead = task_overhead()
        print(f"\nscaling model (backend round trip {overhead * 1000:.2f} ms per task):")
        for figures in measured:
            for model in simulate(figures, overhead):
                simulated.append(model)
                cells = "  ".join(f"{at['workers']:>5}: {at['makespan']:7.2f} s x{at['speedup']:6.1f} "
                                  f"(coordinator {at['coordinator_busy']:4.0%})" for at in model["at"])
                print(f"  {model['row']:<11} {model['per_unit'] * 1000:6.2f} ms/unit, slice "
                      f"{model['slice']:.2f} s, coordinator-bound past {model['limit']:,.0f} workers")
                print(f"    {cells}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps({"capacity": {"speedup": most, "alone": alone, "together": together},
                                                    "rows": measured, "simulated": simulated}, indent=2))
    return 0 if all(figures["same"] for figures in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
