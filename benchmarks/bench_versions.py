"""The cost per step of two versions of explorer, measured in one run: did a change slow it down?

    python benchmarks/bench_versions.py --base 484df7a                    # today's rows, exhaustive and dpor
    python benchmarks/bench_versions.py --base 484df7a --quick --rounds 1 # small sizes, a check that it runs
    python benchmarks/bench_versions.py --base HEAD~3 --strategies exhaustive,dpor,stateful

The base version is checked out into a temporary git worktree; then, round after round,
each version runs ``bench_overhead.py``'s rows (the same scenarios, strategies and
closed-form count checks) in a fresh process of its own, alternating, so both see the same
machine load as nearly as a shared machine allows. Per row the fastest round is kept.
``explore ns`` is explore()'s wall time per step (everything included); ``x`` divides it by
the row's baseline (the same generators driven with ``gen.send``, no engine), which cancels
much of the machine's drift; ``change`` compares the two versions' ``x``. The load average
is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Runs in a fresh interpreter with one checkout first on sys.path; prints one line per row.
DRIVER = """
import sys
root, quick, wanted = sys.argv[1], sys.argv[2] == "1", sys.argv[3].split(",")
sys.path[:0] = [root, root + "/benchmarks"]
import bench_overhead as bench
from explorer import explore
import explorer
assert explorer.__file__.startswith(root), explorer.__file__
explore(bench.counter(2)[0], strategy="dpor")
for label, scenario, names, expected in bench.cases(quick):
    for name in names:
        if name not in wanted:
            continue
        text, good = bench.row(label, scenario, name, expected.get(name))
        rest = text[len(label):].split()
        base, explored = float(rest[3].replace(",", "")), float(rest[6].replace(",", ""))
        print(f"ROW|{label}|{name}|{base}|{explored}|{int(good)}", flush=True)
"""


def measure(checkout: Path, quick: bool, strategies: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    out = subprocess.run([sys.executable, "-c", DRIVER, str(checkout), "1" if quick else "0", ",".join(strategies)],
                         capture_output=True, text=True, cwd=checkout, check=False)
    rows = {}
    for line in out.stdout.splitlines():
        if line.startswith("ROW|"):
            _, label, name, base, explored, good = line.split("|")
            if good != "1":
                raise SystemExit(f"{checkout}: {label} {name}: the execution count does not match its closed form")
            rows[label, name] = (float(base), float(explored))
    if out.returncode != 0 or not rows:
        raise SystemExit(f"{checkout}: the benchmark failed:\n{out.stderr[-2000:]}")
    return rows


def load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the version to compare with (a commit, tag or branch)")
    parser.add_argument("--head", help="the version to measure (default: the working tree as it is)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each version, alternating (default 3)")
    parser.add_argument("--strategies", default="exhaustive,dpor", help="comma-separated (default exhaustive,dpor)")
    parser.add_argument("--quick", action="store_true", help="bench_overhead's small sizes")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    print(load(), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base), args.base],
                       check=True)
        current = ROOT
        if args.head:
            current = Path(scratch) / "head"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(current), args.head],
                           check=True)
        try:
            best: dict[str, dict] = {"base": {}, "head": {}}
            for _ in range(args.rounds):
                for version, checkout in (("base", base), ("head", current)):
                    for key, (plain, explored) in measure(checkout, args.quick, strategies).items():
                        kept = best[version].get(key)
                        if kept is None or explored < kept[1]:
                            best[version][key] = (plain, explored)
        finally:
            for checkout in {base, current} - {ROOT}:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)], check=False)
    head = f"{'row':<18} {'strategy':<11} {'base ns':>9} {'head ns':>9} {'base x':>7} {'head x':>7} {'change':>7}"
    print(f"explore() ns per step, fastest of {args.rounds} rounds each; base = {args.base}, "
          f"head = {args.head or 'the working tree'}")
    print(head)
    print("-" * len(head))
    for key in best["head"]:
        if key not in best["base"]:
            continue
        (b_plain, b_ns), (h_plain, h_ns) = best["base"][key], best["head"][key]
        bx, hx = b_ns / b_plain, h_ns / h_plain
        print(f"{key[0]:<18} {key[1]:<11} {b_ns:>9,.0f} {h_ns:>9,.0f} {bx:>7.1f} {hx:>7.1f} {100 * (hx / bx - 1):>+6.1f}%")
    print(load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
