"""The largest scenario each strategy finishes within a time limit (60 s unless told).

    python benchmarks/bench_largest.py              # every strategy and family (20 minutes or more)
    python benchmarks/bench_largest.py --limit 10   # another limit, in seconds
    python benchmarks/bench_largest.py --strategy stateful   # one strategy only
    python benchmarks/bench_largest.py --quick      # 1 s limit, two families up to size 4: checks it runs

For each strategy that covers its space (exhaustive, dpor, bounded, and any other
not in ``SAMPLING``), each family grows one size at a time, and the largest size whose
``explore()`` finishes within the limit is reported with its executions and seconds.
A family stops at its first size that does not finish. A size that takes under 0.01 s
is followed by twice that size. Where times grow slowly (by
less than half from one size to the next, as when dpor's work grows with the number
of threads rather than the number of schedules), the next size tried is twice the
last while it took under 0.1 s, and after that the one a power law through the last
two points puts at a quarter of the limit (at most twice the size); if that one does
not finish, the sizes between are bisected, so the size reported is still the
largest that finished, with the next one failing.

Every probe runs ``explore(..., time_limit=limit)`` in a subprocess: a search that hits
the limit stops itself, and a runaway one (a single endless execution, or a slow
report after the search) is killed at ``1.5 * limit + 10`` seconds. "finishes" means
no budget was hit and the whole ``explore()`` call took at most the limit.

Sampling strategies never finish a space; their row gives the executions per second
of their default 1,000 samples at the largest size dpor finished in that family.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_overhead import load  # noqa: E402
from bench_strategies import counter, independent  # noqa: E402

from explorer import explore  # noqa: E402
from explorer.strategies import SAMPLING, STRATEGIES  # noqa: E402
from scenarios.dining_philosophers import dining  # noqa: E402
from scenarios.indexer import indexer  # noqa: E402
from scenarios.lastzero import lastzero  # noqa: E402

#: family -> (what n means, builder of size n, first size, largest size tried)
FAMILIES = {
    "counter": ("n threads x 1 increment", lambda n: counter(n)[0], 2, 1024),
    "philosophers": ("n philosophers, left fork first", lambda n: dining(n, ordered=False), 2, 1024),
    "independent": ("n threads x 2 steps, nothing shared", lambda n: independent(n, 1)[0], 2, 1024),
    "indexer": ("indexer(n), n threads", indexer, 1, 1024),
    "lastzero": ("lastzero(n), n writers and a reader", lastzero, 1, 1024),
}
#: --quick: a 1 s limit, these families, and no size past QUICK_CAP
QUICK_FAMILIES = ("counter", "lastzero")
QUICK_CAP = 4


def probe_here(strategy: str, family: str, n: int, limit: float) -> dict:
    """Runs one probe in this process and returns what it found (the subprocess's side)."""
    _what, build, start, _cap = FAMILIES[family]
    explore(build(start), strategy=strategy)  # imports and first calls (networkx for a lock cycle) stay out
    scenario = build(n)
    started = time.perf_counter()
    result = explore(scenario, strategy=strategy, time_limit=limit)
    seconds = time.perf_counter() - started
    return {"executions": result.executions, "steps": result.steps, "seconds": seconds,
            "stop_reason": result.stop_reason}


def probe(strategy: str, family: str, n: int, limit: float) -> dict:
    """One probe in a subprocess; ``finished`` says whether it finished within the limit."""
    command = [sys.executable, __file__, "--probe", strategy, family, str(n), "--limit", str(limit)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1.5 * limit + 10,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"finished": False, "why": "killed"}
    if done.returncode != 0:
        return {"finished": False, "why": f"exit {done.returncode}: {done.stderr.strip()[-200:]}"}
    found = json.loads(done.stdout)
    found["finished"] = found["stop_reason"] is None and found["seconds"] <= limit
    found["why"] = found["stop_reason"] or ("" if found["finished"] else "over the limit")
    return found


def next_size(done: list[tuple[int, float]], limit: float, cap: int) -> int:
    """The next size to try after the sizes ``done`` (size, seconds), all finished."""
    n, t = done[-1]
    if t < 0.01:  # too fast to time: double (a bisection follows if that overshoots)
        return max(n + 1, min(2 * n, cap))
    if len(done) < 2 or done[-2][1] < 0.01:  # too fast to read a trend from
        return n + 1
    m, s = done[-2]
    if (t / s) ** (1 / (n - m)) >= 1.5:  # times multiply from one size to the next
        return n + 1
    if t < 0.1:  # they grow slowly and are still short: double
        return max(n + 1, min(2 * n, cap))
    power = max(math.log(t / s) / math.log(n / m), 1.0)  # a power law through the last two
    target = n * (limit / 4 / t) ** (1 / power)
    return max(n + 1, min(int(target), 2 * n, cap))


def grow(strategy: str, family: str, limit: float, cap: int, say) -> tuple[tuple | None, dict | None, int]:
    """The largest finished size as (n, probe), the first size that did not finish as a
    probe (None if the cap was reached), and how many probes it took."""
    _what, _build, start, family_cap = FAMILIES[family]
    cap = min(cap, family_cap)
    done: list[tuple[int, float]] = []
    best = None
    n, probes = start, 0
    while n <= cap:
        found = probe(strategy, family, n, limit)
        probes += 1
        say(f"  {strategy} {family} {n}: " + (f"{found['executions']:,} executions, {found['seconds']:.2f} s"
                                              if found["finished"] else f"did not finish ({found['why']})"))
        if not found["finished"]:
            low = best[0] if best else start - 1
            if n - low > 1:  # a jump that overshot: bisect the sizes between
                found["n"] = n
                failure = found
                high = n
                while high - low > 1:
                    middle = (low + high) // 2
                    tried = probe(strategy, family, middle, limit)
                    probes += 1
                    say(f"  {strategy} {family} {middle}: " + (f"{tried['seconds']:.2f} s" if tried["finished"]
                                                               else "did not finish"))
                    if tried["finished"]:
                        low, best = middle, (middle, tried)
                    else:
                        tried["n"] = middle
                        high, failure = middle, tried
                return best, failure, probes
            found["n"] = n
            return best, found, probes
        best = (n, found)
        done.append((n, found["seconds"]))
        n = next_size(done, limit, cap)
    return best, None, probes


def samples(strategy: str, family: str, n: int, limit: float) -> str:
    found = probe(strategy, family, n, limit)
    if not found.get("executions") or "seconds" not in found:
        return f"n/a (samples; at n={n}: {found['why']})"
    return f"n/a (samples: {found['executions'] / found['seconds']:,.0f} exec/s at n={n})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds a probe may take (default 60)")
    parser.add_argument("--quick", action="store_true",
                        help=f"1 s limit, families {', '.join(QUICK_FAMILIES)}, sizes up to {QUICK_CAP}")
    parser.add_argument("--strategy", action="append", choices=sorted(STRATEGIES),
                        help="only this strategy (repeatable; default: every one)")
    parser.add_argument("--probe", nargs=3, metavar=("STRATEGY", "FAMILY", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        strategy, family, n = args.probe
        print(json.dumps(probe_here(strategy, family, int(n), args.limit)))
        return 0
    limit = 1.0 if args.quick else args.limit
    cap = QUICK_CAP if args.quick else sys.maxsize
    families = QUICK_FAMILIES if args.quick else tuple(FAMILIES)
    started = time.perf_counter()
    print(f"python {platform.python_version()} on {platform.machine()}; limit {limit:g} s; {load()}", flush=True)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    chosen = args.strategy or list(STRATEGIES)
    complete = [name for name in chosen if name not in SAMPLING]
    table: dict[str, dict[str, str]] = {}
    reached: dict[str, int] = {}
    for strategy in complete:
        table[strategy] = {}
        for family in families:
            best, failure, probes = grow(strategy, family, limit, cap, say)
            if best is None:
                cell = f"none (n={FAMILIES[family][2]}: {failure['why']})"
            else:
                n, found = best
                cell = f"{n} ({found['executions']:,} exec, {found['seconds']:.1f} s)"
                if failure is None:
                    cell = f">= {cell}"
            table[strategy][family] = cell
            if best is not None and (strategy == "dpor" or family not in reached):
                reached[family] = best[0]
            print(f"{strategy} {family}: {cell} [{probes} probes]", flush=True)
    for strategy in (name for name in chosen if name in SAMPLING):
        table[strategy] = {family: samples(strategy, family, reached.get(family, FAMILIES[family][2]), limit)
                           for family in families}
        print(f"{strategy}: done", flush=True)

    print()
    print("| strategy | " + " | ".join(f"{family}: {FAMILIES[family][0]}" for family in families) + " |")
    print("|---|" + "---|" * len(families))
    for strategy, cells in table.items():
        print(f"| {strategy} | " + " | ".join(cells[family] for family in families) + " |")
    print(f"\n{load()}; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
