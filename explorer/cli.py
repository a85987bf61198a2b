"""The ``explorer`` command: explore the scenarios in files and print what can go wrong."""

from __future__ import annotations

import argparse
import sys

from .errors import ExplorerError
from .explore import explore
from .loading import load_scenarios
from .settings import DEFAULT_MAX_STEPS
from .strategies import STRATEGIES

EXAMPLES = """\
examples:
  explorer run scenarios/counter.py          explore every scenario in a file
  explorer run scenarios/ -k deadlock        only scenarios whose name contains 'deadlock'
  explorer list scenarios/                   one line per scenario

exit status: 0 no error findings, 1 some scenario has an error finding, 2 a file or
scenario could not be used. Loading a scenario file runs its Python code.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="explorer",
        description="Explore every interleaving of the threads in scenario files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="explore scenarios and print findings with traces",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    run.add_argument("-k", dest="select", help="only scenarios whose name contains this text")
    run.add_argument("--strategy", default="exhaustive", choices=sorted(STRATEGIES))
    run.add_argument("--max-executions", type=int, default=None)
    run.add_argument("--max-steps", type=int, default=DEFAULT_MAX_STEPS)
    run.add_argument("--time-limit", type=float, default=None, help="seconds per scenario")
    run.add_argument("-q", "--quiet", action="store_true", help="one line per finding, no traces")
    listing = commands.add_parser("list", help="list the scenarios in files or folders")
    listing.add_argument("paths", nargs="+", metavar="PATH")
    args = parser.parse_args(argv)

    try:
        found, failures = load_scenarios(args.paths)
    except FileNotFoundError as exc:
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    for failure in failures:
        print(f"explorer: {failure}", file=sys.stderr)
    status = 2 if failures else 0
    select = getattr(args, "select", None)
    chosen = [item for item in found if not select or select.lower() in item[2].name.lower()]
    if args.command == "list":
        for file, attribute, scenario in chosen:
            print(f"{file}::{attribute}  {scenario.name!r}  threads={list(scenario.threads)}")
        return status
    for file, attribute, scenario in chosen:
        print(f"{file}::{attribute}")
        try:
            result = explore(scenario, strategy=args.strategy, max_executions=args.max_executions,
                             max_steps=args.max_steps, time_limit=args.time_limit)
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = 2
            continue
        print(result.render(traces=not args.quiet))
        print()
        if status == 0 and any(f.severity == "error" for f in result.findings):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
