"""State graphs against plain exploration: how many states hold how many interleavings.

    python benchmarks/bench_state_graph.py           # every row, exploration included
    python benchmarks/bench_state_graph.py --quick   # the small rows only

For each scenario: the states and edges of its state graph and the seconds to build it,
the number of maximal paths through the graph (counted on the DAG), and the executions
exhaustive exploration runs with the seconds it takes. Paths and executions must be
equal: every maximal schedule is one path. A mismatch exits with status 1.
"""

from __future__ import annotations

import sys
import time
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import Scenario, explore, read, write  # noqa: E402
from explorer.graphs import state_graph  # noqa: E402
from scenarios import dining_philosophers, fake_database  # noqa: E402


def increment():
    value = yield read("x")
    yield write("x", value + 1)


def counter(threads: int) -> Scenario:
    return Scenario(f"counter {threads}x1", variables={"x": 0},
                    threads={f"T{i}": increment for i in range(threads)})


def maximal_paths(graph) -> int:
    @cache
    def paths(node):
        successors = list(graph.successors(node))
        return 1 if not successors else sum(paths(s) for s in successors)
    return paths(0)


def main(quick: bool) -> int:
    rows = [counter(2), counter(3), fake_database.fake_database_update, dining_philosophers.dining(3, ordered=False)]
    if not quick:
        rows += [counter(5), dining_philosophers.dining(4, ordered=False)]
    print(f"python {sys.version.split()[0]}")
    header = f"{'scenario':42} {'states':>7} {'edges':>7} {'graph s':>8} {'paths':>10} {'executions':>10} {'explore s':>9}"
    print(header)
    print("-" * len(header))
    failed = False
    for scenario in rows:
        started = time.perf_counter()
        graph = state_graph(scenario)
        built = time.perf_counter() - started
        started = time.perf_counter()
        result = explore(scenario, strategy="exhaustive")
        explored = time.perf_counter() - started
        paths = maximal_paths(graph)
        failed |= paths != result.executions
        print(f"{scenario.name:42} {graph.number_of_nodes():>7,} {graph.number_of_edges():>7,} {built:>8.2f} "
              f"{paths:>10,} {result.executions:>10,} {explored:>9.2f}" + ("" if paths == result.executions
                                                                        else "  MISMATCH"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))
