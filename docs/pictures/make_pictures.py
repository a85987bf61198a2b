"""Draw the pictures in docs/pictures/ from the scenario library.

    python docs/pictures/make_pictures.py            # rewrites docs/pictures/*.svg
    python docs/pictures/make_pictures.py OUT --png  # somewhere else, as PNG

Each picture is drawn from a fresh exploration, so it shows what explorer says today.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from explorer import explore  # noqa: E402
from explorer.export import write_graph  # noqa: E402
from explorer.graphs import happens_before_graph, path_of  # noqa: E402
from explorer.pictures import draw_swimlane, save_figure  # noqa: E402
from scenarios import abba, counter, dining_philosophers, fake_database  # noqa: E402

#: (file stem, scenario, the finding kind whose trace the pictures follow, most states drawn:
#: past it only the paths to findings are)
SUBJECTS = [
    ("counter", counter.lost_update, "lost-update", 400),
    ("fake_database", fake_database.fake_database_update, "nonserializable", 400),
    ("abba", abba.abba_deadlock, "deadlock", 400),
    ("dining_philosophers", dining_philosophers.dining_philosophers, "deadlock", 40),
]


def make(out: Path, suffix: str = ".svg") -> list[Path]:
    """Write every picture into ``out``; returns the paths written."""
    written = []
    for stem, scenario, kind, max_nodes in SUBJECTS:
        result = explore(scenario)
        finding = next(f for f in result.findings if f.kind == kind)
        graph = result.state_graph
        written.append(write_graph(graph, out / f"{stem}_states{suffix}", path=path_of(graph, finding.trace),
                                   max_nodes=max_nodes, title=f"{scenario.name}: reachable states"))
        written.append(save_figure(draw_swimlane(finding.trace, title=f"{scenario.name}: {kind}"),
                                   out / f"{stem}_{kind}{suffix}"))
        if result.lock_order:
            written.append(write_graph(result.lock_order_graph, out / f"{stem}_lock_order{suffix}"))
        race = next((f for f in result.findings if f.kind == "race"), None)
        if race is not None:
            written.append(write_graph(happens_before_graph(race.trace), out / f"{stem}_race{suffix}",
                                       title=f"{scenario.name}: {race.message.split(':')[0]}"))
    return written


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    target = Path(arguments[0]) if arguments else Path(__file__).parent
    for path in make(target, ".png" if "--png" in sys.argv else ".svg"):
        print(path)
