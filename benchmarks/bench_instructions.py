"""Instructions per step of two versions of explorer, counted by valgrind: a before-and-after
figure that a busy machine cannot blur.

    python benchmarks/bench_instructions.py --base 484df7a                # the rows below
    python benchmarks/bench_instructions.py --base 484df7a --head HEAD    # a commit, not the working tree
    python benchmarks/bench_instructions.py --base 5d77f0f --rows stateful  # rows whose label or strategy match

Seconds on a shared machine move with its load; instructions do not. Each row runs
``explore()`` once in a fresh interpreter under ``valgrind --tool=callgrind`` (the base
version from a temporary git worktree), and once more with the same imports and warm-up but
no row, so interpreter start-up and imports cancel out: (row - empty) / steps is the cost
of one step, everything included (for stateful search, whose graph walk takes most of its
steps without the engine, the cost of one state stored instead). ``change`` compares head
with base. Needs valgrind (Debian's ``valgrind`` package); a row takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Rows: (label, strategy, expression making the scenario with bench_strategies / scenarios).
ROWS = [
    ("counter 4x1", "exhaustive", "counter(4)[0]"),
    ("counter 4x1", "dpor", "counter(4)[0]"),
    ("counter 2x4", "exhaustive", "counters(2, 4)"),  # bench_peers' steady state against frontrun
    ("counter 2x4", "dpor", "counters(2, 4)"),  # and bench_peers' dpor row beside it
    ("counter 3x3", "bounded", "counters(3, 3)"),  # two preemptions, the default
    ("independent 2x4", "exhaustive", "independent(2, 2)[0]"),
    ("philosophers 3", "exhaustive", "dining(3, ordered=False)"),
    ("philosophers 4", "dpor", "dining(4, ordered=False)"),
    # bench_spin's table (each philosopher its forks: seats), per state stored
    ("philosophers 6", "stateful", "spin_scenario(spin_rows['philosophers-6'])"),
]

DRIVER = """
import sys
root, strategy, expression = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [root, root + "/benchmarks"]
from bench_strategies import counter, independent
from scenarios.dining_philosophers import dining
from bench_peers import counter as counters  # N threads adding K times
from bench_spin import ROWS as spin_rows, scenario as spin_scenario
from explorer import explore
import explorer
assert explorer.__file__.startswith(root), explorer.__file__
explore(counter(2)[0], strategy="dpor")  # warm-up, in the empty run too
if expression:
    result = explore(eval(expression), strategy=strategy)
    print("STEPS", result.states if strategy == "stateful" else result.steps, result.executions)
"""


def count(checkout: Path, strategy: str, expression: str) -> tuple[int, int | None]:
    """(instructions, steps) of one run under callgrind."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                               sys.executable, "-c", DRIVER, str(checkout), strategy, expression],
                              capture_output=True, text=True, cwd=checkout, check=False)
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or collected is None:
        raise SystemExit(f"{checkout}: valgrind failed:\n{done.stderr[-2000:]}")
    steps = re.search(r"STEPS (\d+)", done.stdout)
    return int(collected.group(1)), int(steps.group(1)) if steps else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the version to compare with (a commit, tag or branch)")
    parser.add_argument("--head", help="the version to measure (default: the working tree as it is)")
    parser.add_argument("--rows", help="only the rows whose label or strategy contains one of these comma-separated "
                                       "words")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} (instruction counts do not depend on it)")
    with tempfile.TemporaryDirectory() as scratch:
        checkouts = {"base": Path(scratch) / "base", "head": ROOT}
        if args.head:
            checkouts["head"] = Path(scratch) / "head"
        for version, revision in (("base", args.base), ("head", args.head)):
            if revision:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                                str(checkouts[version]), revision], check=True)
        try:
            empty = {version: count(path, "dpor", "")[0] for version, path in checkouts.items()}
            head = (f"{'row':<18} {'strategy':<11} {'steps':>7} {'base instr/step':>16} "
                    f"{'head instr/step':>16} {'change':>7}")
            print(f"explore() instructions per step (callgrind), base = {args.base}, "
                  f"head = {args.head or 'the working tree'}")
            print(head)
            print("-" * len(head))
            wanted = [word.strip() for word in args.rows.split(",")] if args.rows else None
            for label, strategy, expression in ROWS:
                if wanted is not None and not any(word in label or word in strategy for word in wanted):
                    continue
                per_step = {}
                for version, path in checkouts.items():
                    total, steps = count(path, strategy, expression)
                    per_step[version] = ((total - empty[version]) / steps, steps)
                (base, steps), (mine, _) = per_step["base"], per_step["head"]
                print(f"{label:<18} {strategy:<11} {steps:>7,} {base:>16,.0f} {mine:>16,.0f} "
                      f"{100 * (mine / base - 1):>+6.1f}%", flush=True)
        finally:
            for version, revision in (("base", args.base), ("head", args.head)):
                if revision:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(checkouts[version])], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
