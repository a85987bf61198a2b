"""The ``explorer`` command: explore the scenarios in files and print what can go wrong."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from ._files import write_text as _write_text
from .errors import ExplorerError
from .explore import explore
from .loading import load_scenarios, nothing_collected
from .settings import DEFAULT_MAX_STEPS, DEFAULT_STEP_TIMEOUT
from .strategies import STRATEGIES

EXAMPLES = """\
examples:
  explorer run scenarios/counter.py          explore every scenario in a file
  explorer run scenarios/ -k deadlock        only scenarios whose name contains 'deadlock'
  explorer run scenarios/ --json out.json    also write the results as JSON
  explorer run scenarios/abba.py --graph g/  also write state and lock-order graphs (DOT, GraphML, SVG)
  explorer run scenarios/counter.py --save-trace t/   write each finding's trace to a file
  explorer replay scenarios/counter.py --trace t/lost-update-0.json   show a saved trace step by step
  explorer list scenarios/                   one line per scenario
  explorer crosscheck scenarios/counter.py   run on real threads and compare with the model

exit status: 0 every scenario explored completely with no error finding, 1 some scenario
has an error finding, 2 a file or scenario could not be used or an output not written, 3
no error finding but some exploration was INCOMPLETE (a budget, bound or sample: the
absence of bugs is not proven), 5 nothing collected (no scenario, or none -k selects),
130 interrupted by Ctrl-C (the partial result is printed first, marked INCOMPLETE).
--json - and --report - write to standard output. A progress line shows on a terminal, never on a pipe.
Loading a scenario file runs its Python code.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status. A reader that stops early
    (``explorer run scenarios/ | head``) ends the output quietly, and the status is
    still never 0 unless every scenario was explored completely and showed no error."""
    so_far = _Status()
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is shown escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return _main(argv, so_far)
    except BrokenPipeError:
        # Python would complain again when flushing stdout at exit; point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return so_far.on_broken_pipe()
    except KeyboardInterrupt:  # outside an exploration (loading files, writing them): nothing partial to show
        print("\nexplorer: interrupted (Ctrl-C)", file=sys.stderr)
        return 130


class _Status:
    """The exit status known so far, for a run the reader cut short."""

    def __init__(self) -> None:
        self.status = 0
        self.finished = True  # False while scenarios remain to be explored or checked

    def on_broken_pipe(self) -> int:
        if self.status != 0:
            return self.status
        return 0 if self.finished else EXIT_INCOMPLETE


EXIT_INCOMPLETE = 3
#: Nothing was collected: no scenario in the files, or none that -k selects (as pytest's 5).
EXIT_NOTHING_COLLECTED = 5


def _main(argv: list[str] | None, so_far: _Status) -> int:
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
    run.add_argument("--strategy", default="dpor", choices=sorted(STRATEGIES),
                     help="dpor (one schedule per Mazurkiewicz trace, the default), exhaustive (every "
                          "schedule: counts of interleavings), stateful, bounded (at most --preemptions), "
                          "random or pct (seeded samples; 1,000 executions unless --max-executions)")
    run.add_argument("--seed", type=int, default=0, help="seed of the random and pct strategies")
    run.add_argument("--preemptions", type=int, default=None, help="the bound of the bounded strategy (2)")
    run.add_argument("--depth", type=int, default=None, help="the bug depth pct aims at (3)")
    run.add_argument("--max-executions", type=int, default=None)
    run.add_argument("--max-steps", type=int, default=DEFAULT_MAX_STEPS)
    run.add_argument("--time-limit", type=float, default=None, help="seconds per scenario")
    run.add_argument("--step-timeout", type=float, default=DEFAULT_STEP_TIMEOUT,
                     help="seconds one step's code may run before it counts as hung (default 10)")
    run.add_argument("-q", "--quiet", action="store_true", help="one line per finding, no traces")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="also print every outcome with its return values")
    run.add_argument("--json", dest="json_file", metavar="FILE",
                     help="write the results as JSON (docs/json-format.md) to FILE")
    run.add_argument("--graph", dest="graph_dir", metavar="DIR",
                     help="write each scenario's state graph and lock-order graph to DIR as .dot, .graphml "
                          "and .svg (a state graph too large to draw is cut to the paths to findings)")
    run.add_argument("--save-trace", dest="trace_dir", metavar="DIR",
                     help="write each finding's trace to DIR as a JSON file that 'explorer replay' reads")
    run.add_argument("--report", dest="report_file", metavar="FILE.html",
                     help="write one self-contained HTML page with the summaries, traces and graphs")
    listing = commands.add_parser("list", help="list the scenarios in files or folders",
                                  epilog="example:\n  explorer list scenarios/",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    listing.add_argument("paths", nargs="+", metavar="PATH")
    again = commands.add_parser(
        "replay", help="replay a saved trace step by step",
        description="Replay one trace (from --save-trace, or a finding of a --json result file) against "
                    "its scenario and show it step by step. The scenario is found in PATH by the name the "
                    "file records, or by -k.",
        epilog="example:\n  explorer run scenarios/counter.py --save-trace traces/\n"
               "  explorer replay scenarios/counter.py --trace traces/lost-update-0-lost-update.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    again.add_argument("paths", nargs="+", metavar="PATH", help="the scenario file or folder")
    again.add_argument("--trace", required=True, metavar="FILE", help="a trace file or a result file")
    again.add_argument("--finding", default=None,
                       help="in a result file: the finding's position or kind (default: the only one)")
    again.add_argument("-k", dest="select", help="the scenario whose name contains this text")
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

    notes: list[str] = []
    try:
        found, failures = load_scenarios(args.paths, notes=notes)
    except FileNotFoundError as exc:
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"explorer: {note}", file=sys.stderr)
    for failure in failures:
        print(f"explorer: {failure}", file=sys.stderr)
    status = 2 if failures else 0
    select = getattr(args, "select", None)
    chosen = [item for item in found if not select or select.lower() in item[2].name.lower()]
    if not chosen:
        print(f"explorer: {nothing_collected(args.paths, found, failures, select)}", file=sys.stderr)
        return status or EXIT_NOTHING_COLLECTED
    if args.command in ("run", "crosscheck"):
        so_far.finished = False
    if args.command == "list":
        for file, attribute, scenario in chosen:
            print(f"{file}::{attribute}  {scenario.name!r}  threads={list(scenario.threads)}")
        return status
    if args.command == "crosscheck":
        return _crosscheck(args, chosen, status, so_far)
    if args.command == "replay":
        return _replay(args, chosen, status)
    results = []
    incomplete = False
    unwritten: list[str] = []  # one line per file that could not be written, said at the end
    for file, attribute, scenario in chosen:
        print(f"{file}::{attribute}")
        bar = _ProgressBar() if sys.stderr.isatty() else None
        try:
            result = explore(scenario, strategy=args.strategy, max_executions=args.max_executions,
                             max_steps=args.max_steps, time_limit=args.time_limit, step_timeout=args.step_timeout, progress=bar,
                             seed=args.seed, preemptions=args.preemptions, depth=args.depth)
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = so_far.status = 2
            continue
        finally:
            if bar is not None:
                bar.clear()
        if status == 0 and any(f.severity == "error" for f in result.findings):
            status = so_far.status = 1
        incomplete |= not result.complete
        if incomplete and status == 0:
            so_far.status = EXIT_INCOMPLETE
        results.append(result)
        print(result.render(traces=not args.quiet))
        if args.verbose:
            print("  outcomes (final state and return values):")
            for outcome, count in sorted(result.outcomes.items(), key=lambda item: -item[1]):
                print(f"    {outcome}  {count}")
        unwritten += _write_artifacts(args, result)
        print()
        if result.stop_reason == "interrupted":
            print("explorer: interrupted (Ctrl-C); the result above is partial, and no further "
                  "scenario was explored", file=sys.stderr)
            status = so_far.status = 130
            break
    if args.json_file:
        from .json_format import result_to_dict

        document = {"format": "explorer-run", "version": 1, "results": [result_to_dict(r) for r in results]}
        unwritten += _output("--json", args.json_file, json.dumps(document, indent=2, allow_nan=False) + "\n")
    if args.report_file:
        from .report_html import render_report

        failed = _output("--report", args.report_file, render_report(results))
        if not failed and args.report_file != "-":
            print(f"report: {Path(args.report_file)}")
        unwritten += failed
    so_far.finished = True
    for failure in unwritten:
        print(f"explorer: {failure}", file=sys.stderr)
    if unwritten and status in (0, 1):
        status = 2
    return EXIT_INCOMPLETE if status == 0 and incomplete else status


def _output(flag: str, target: str, text: str) -> list[str]:
    """Write ``text`` where ``flag`` asks (``-`` is standard output); the failure, as one line, or []."""
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return []
    return _saved(flag, target, lambda: _write_text(Path(target), text))


def _saved(flag: str, target, write) -> list[str]:
    """Call ``write()``; a file that cannot be written is one line naming it and why, not a traceback."""
    from ._files import unwritable

    try:
        write()
    except OSError as exc:
        return [f"{flag}: cannot write {target}: {unwritable(exc, target)}"]
    return []


class _ProgressBar:
    """One self-overwriting line on a terminal's stderr: executions, rate, elapsed."""

    def __call__(self, executions: int, steps: int, seconds: float) -> None:
        rate = executions / seconds if seconds > 0 else 0.0
        minutes, secs = divmod(int(seconds), 60)
        sys.stderr.write(f"\r  exploring: {executions:,} executions, {steps:,} steps, "
                         f"{rate:,.0f} executions/s, {minutes}:{secs:02d} (Ctrl-C stops and shows "
                         f"what was found)")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if getattr(self, "shown", False):
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _write_artifacts(args, result) -> list[str]:
    """The per-scenario files --graph and --save-trace ask for; returns one line per file
    that could not be written (the run goes on with the next scenario)."""
    from .errors import GraphTooLarge
    from .export import write_graph
    from .json_format import trace_to_json

    failed: list[str] = []
    slug = "".join(c if c.isalnum() else "-" for c in result.scenario.name).strip("-") or "scenario"
    if args.graph_dir:
        folder = Path(args.graph_dir)
        try:
            states = result.state_graph
        except GraphTooLarge as exc:
            print(f"  graph: {exc}")
        else:
            for suffix in (".dot", ".graphml"):
                failed += _saved("--graph", folder / f"{slug}-states{suffix}",
                                 lambda path=folder / f"{slug}-states{suffix}": write_graph(states, path))
            try:
                failed += _saved("--graph", folder / f"{slug}-states.svg",
                                 lambda: write_graph(states, folder / f"{slug}-states.svg"))
            except GraphTooLarge as exc:
                print(f"  graph: {slug}-states.svg not drawn: {exc}")
        if result.lock_order:
            for suffix in (".dot", ".graphml", ".svg"):
                path = folder / f"{slug}-lock-order{suffix}"
                failed += _saved("--graph", path, lambda path=path: write_graph(result.lock_order_graph, path))
        if not failed:
            print(f"  graphs written to {folder}/{slug}-*")
    if args.trace_dir:
        for number, finding in enumerate(result.findings):
            path = Path(args.trace_dir) / f"{slug}-{number}-{finding.kind}.json"
            text = trace_to_json(finding.trace, scenario=result.scenario) + "\n"
            failure = _saved("--save-trace", path, lambda path=path, text=text: _write_text(path, text))
            if failure:
                failed += failure
                break  # the next ones would fail alike
            print(f"  trace of finding {number} ({finding.kind}): {path}")
    return failed


def _one_result(run: dict, select: str | None, where: str) -> dict:
    """From an ``explorer run --json`` file, the result -k names, or the only one with findings."""
    from .errors import InvalidArgument

    results = run.get("results")
    if not isinstance(results, list):
        raise InvalidArgument(f"{where}: field 'results' must be a list of results, got {type(results).__name__}")
    names = []
    for position, entry in enumerate(results):
        scenario = entry.get("scenario") if isinstance(entry, dict) else None
        name = scenario.get("name") if isinstance(scenario, dict) else None
        if not isinstance(name, str):
            raise InvalidArgument(f"{where}: field 'results[{position}].scenario.name' must be the scenario's "
                                  f"name (a string)")
        names.append(name)
    if select:
        picked = [r for r, name in zip(results, names) if select.lower() in name.lower()]
    else:
        picked = [r for r in results if r.get("findings")]
    if len(picked) != 1:
        raise InvalidArgument(f"{where}: the file holds the results of {names}; name one with -k")
    return picked[0]


def _replay(args, chosen, status: int) -> int:
    from .explore import replay
    from .json_format import load_trace, read_json_file

    finding = args.finding
    if finding is not None and finding.isdigit():
        finding = int(finding)
    try:
        recorded = read_json_file(args.trace)
        if isinstance(recorded, dict) and recorded.get("format") == "explorer-run":
            recorded = _one_result(recorded, args.select, f"result file {args.trace!r}")
        trace = load_trace(recorded, finding=finding)
    except (OSError, ValueError) as exc:  # ExplorerErrors are ValueErrors too
        print(f"explorer: {args.trace}: {exc}", file=sys.stderr)
        return 2
    name = recorded.get("scenario")
    name = name.get("name") if isinstance(name, dict) else name
    candidates = [item for item in chosen if args.select or item[2].name == name]
    if len(candidates) != 1:
        names = [item[2].name for item in chosen]
        print(f"explorer: the trace is of scenario {name!r}; found {len(candidates)} matching scenarios "
              f"among {names} (use -k to pick one)", file=sys.stderr)
        return 2
    file, attribute, scenario = candidates[0]
    try:
        execution = replay(scenario, trace)
    except ExplorerError as exc:
        print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
        return 2
    mismatch = _other_steps(trace, execution.trace)
    if mismatch:
        print(f"explorer: {args.trace}: the trace was not recorded from {file}::{attribute} as it is now: "
              f"{mismatch}; record it again with 'explorer run --save-trace'", file=sys.stderr)
        return 2
    print(f"{file}::{attribute}")
    if execution.trace.schedule == trace.schedule and trace.marks:
        # the saved trace's marks (the stale read, the lost write...) belong to this very schedule
        execution = replace(execution, trace=replace(execution.trace, marks=trace.marks))
    print(execution.render())
    if status == 0 and any(f.severity == "error" for f in execution.findings):
        status = 1
    return status


def _other_steps(saved, replayed) -> str | None:
    """Where a saved trace's steps differ from the steps its schedule takes now, or None."""
    from ._text import shown

    for saved_event, event in zip(saved.events, replayed.events):
        if (saved_event.kind, saved_event.target) != (event.kind, event.target):
            return (f"at step {event.index + 1} it says {saved_event.thread} did {saved_event.kind} "
                    f"{shown(saved_event.target)}, but the scenario does {event.kind} {shown(event.target)}")
    if len(saved.events) != len(replayed.events):
        return f"it has {len(saved.events)} steps, but its schedule runs {len(replayed.events)} steps"
    return None


def _crosscheck(args, chosen, status: int, so_far: _Status) -> int:
    from .crosscheck import crosscheck

    tables = []
    for file, attribute, scenario in chosen:
        print(f"{file}::{attribute}")
        try:
            check = crosscheck(scenario, runs=args.runs, seed=args.seed, timeout=args.timeout)
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = so_far.status = 2
            continue
        if status == 0 and check.unexpected:
            status = so_far.status = 1
        print(check.render())
        print()
        tables.append(check.to_dict())
    so_far.finished = True
    if args.json_file:
        for failure in _output("--json", args.json_file, json.dumps(tables, indent=2, allow_nan=False) + "\n"):
            print(f"explorer: {failure}", file=sys.stderr)
            status = max(status, 2) if status != 130 else status
    return status


if __name__ == "__main__":
    sys.exit(main())
