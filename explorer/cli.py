"""The ``explorer`` command: explore the scenarios in files and print what can go wrong."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
  explorer crosscheck scenarios/counter.py   run on real threads and compare with the model

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
    check = commands.add_parser(
        "crosscheck", help="run scenarios on real threads many times and compare with exploration",
        description="Run each scenario's threads on real threading.Thread objects many times and "
                    "print what they did, next to what exploration predicted. Exit status 1 if real "
                    "threads did something exploration never produced (the model is wrong).",
        epilog="example:\n  explorer crosscheck scenarios/counter.py --runs 2000 --seed 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    check.add_argument("-k", dest="select", help="only scenarios whose name contains this text")
    check.add_argument("--runs", type=int, default=1000, help="runs per scenario (default 1000)")
    check.add_argument("--seed", type=int, default=0, help="seed of the random pauses between steps")
    check.add_argument("--timeout", type=float, default=2.0,
                       help="seconds without progress before a run is given up (default 2)")
    check.add_argument("--json", dest="json_file", help="also write the tables as JSON to this file")
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
    if args.command == "crosscheck":
        return _crosscheck(args, chosen, status)
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


def _crosscheck(args, chosen, status: int) -> int:
    import json

    from .crosscheck import crosscheck
    from .export import _write_text

    tables = []
    for file, attribute, scenario in chosen:
        print(f"{file}::{attribute}")
        try:
            check = crosscheck(scenario, runs=args.runs, seed=args.seed, timeout=args.timeout)
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = 2
            continue
        print(check.render())
        print()
        tables.append(check.to_dict())
        if status == 0 and check.unexpected:
            status = 1
    if args.json_file:
        _write_text(Path(args.json_file), json.dumps(tables, indent=2, allow_nan=False) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
