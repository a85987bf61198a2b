"""The ``explorer`` command: explore the scenarios in files and print what can go wrong."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from . import __version__
from ._files import write_text as _write_text
from ._keyword import keyword_matcher
from .backends import too_many_workers
from .errors import ExplorerError
from .explore import FAIR, explore
from .loading import load_scenarios, nothing_collected
from .render import render_result
from .settings import DEFAULT_MAX_STEPS, DEFAULT_STEP_TIMEOUT
from .strategies import STRATEGIES

EXAMPLES = """\
examples:
  explorer run scenarios/counter.py          explore every scenario in a file
  explorer run scenarios/counter.py::lost_update   one scenario, by its name in the file
  explorer run scenarios/ -k deadlock        only scenarios whose name contains 'deadlock'
  explorer run scenarios/ -k "abba and not gated"  -k combines words with and, or, not
  explorer run scenarios/ --json out.json    also write the results as JSON
  explorer run scenarios/ --json - -q        the JSON alone on standard output (text on stderr)
  explorer run scenarios/abba.py --graph g/  also write state and lock-order graphs (DOT, GraphML, SVG)
  explorer run scenarios/counter.py --save-trace t/   write each finding's trace to a file
  explorer replay scenarios/counter.py --trace t/lost-update-0-lost-update.json   a saved trace, step by step
  explorer replay scenarios/counter.py::lost_update --schedule A,B,B,A   run one schedule step by step
  explorer list scenarios/                   one line per scenario
  explorer crosscheck scenarios/counter.py   run on real threads and compare with the model

A scenario that states what it teaches (Scenario(..., expect=Expect(...))) passes when
its Expect holds: a lesson that shows a lost update as it says it does is not a
failure. A scenario without an Expect passes when it has no error-severity finding.
--ignore-expect judges every scenario by its raw findings.

exit status: 0 every scenario passed, 1 some scenario failed (an Expect that does not
hold, or an error finding where nothing is expected), 2 a file or scenario could not be
used or an output not written, 3 nothing failed but some exploration was INCOMPLETE (a
budget, bound or sample: the absence of bugs is not proven), 5 nothing collected (no
scenario, or none -k selects) or nothing checked (no thread took a step), 130 interrupted
by Ctrl-C or 143 stopped by SIGTERM (the partial result is printed first, marked
INCOMPLETE). --json - or --report - writes to standard output (one of them). A progress
line shows on a terminal, never on a pipe; colour too, unless NO_COLOR is set. Loading a
scenario file runs its Python code.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status. A reader that stops early
    (``explorer run scenarios/ | head``) ends the output quietly, and the status is
    still never 0 unless every scenario was explored completely and passed."""
    so_far = _Status()
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is shown escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    with _sigterm_as_ctrl_c():
        try:
            status = _main(argv, so_far)
        except BrokenPipeError:
            # Python would complain again when flushing stdout at exit; point it at nothing.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return so_far.on_broken_pipe()
        except KeyboardInterrupt:  # outside an exploration (loading files, writing them): nothing partial to show
            print(f"\nexplorer: {_STOPPED_BY[0]}", file=sys.stderr)
            status = 130
    return 143 if status == 130 and _STOPPED_BY[0] != _CTRL_C else status


_CTRL_C = "interrupted (Ctrl-C)"
#: What stopped the run: Ctrl-C, or SIGTERM (a CI job's timeout, ``kill``), which stops it alike.
_STOPPED_BY = [_CTRL_C]


@contextlib.contextmanager
def _sigterm_as_ctrl_c():
    """SIGTERM stops the run as Ctrl-C does: the exploration under way ends, its partial
    result is printed and marked incomplete, the workers stop, and the status is 143
    (128 + SIGTERM) instead of Python dying silently. On the main thread only."""
    _STOPPED_BY[0] = _CTRL_C
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        _STOPPED_BY[0] = "stopped (SIGTERM)"
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)  # what Ctrl-C does now: note it, raise KeyboardInterrupt
        else:  # Ctrl-C ignored (a background job): SIGTERM still stops
            raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


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


def _parser() -> argparse.ArgumentParser:
    """The command line's parser: every command and option, each with its help text."""
    parser = argparse.ArgumentParser(
        prog="explorer",
        description="Explore every interleaving of the threads in scenario files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"explorer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="explore scenarios and print findings with traces",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("paths", nargs="+", metavar="PATH",
                     help="scenario files or folders; FILE::NAME picks one scenario of a file")
    run.add_argument("-k", dest="select", metavar="EXPRESSION", help=_K_HELP)
    run.add_argument("--strategy", default=None, choices=sorted([*STRATEGIES, "auto"]),
                     help="dpor (one schedule per Mazurkiewicz trace, the default; exhaustive with --fair), "
                          "exhaustive (every "
                          "schedule: counts of interleavings), stateful, auto (dpor and stateful in turns: "
                          "the first to finish gives the result), bounded (at most --preemptions), "
                          "random or pct (seeded samples; 1,000 executions unless --max-executions)")
    run.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the random and pct strategies")
    run.add_argument("--fair", action="store_true",
                     help="explore fair schedules only: a thread that sleeps or times out lets every thread "
                          "that could run take a step first, so polling loops end (exhaustive, the default "
                          "then, dpor, bounded, random, pct)")
    run.add_argument("--preemptions", type=_whole(0), default=None, metavar="K",
                     help="the bound of the bounded strategy (2)")
    run.add_argument("--depth", type=_whole(1), default=None, metavar="D", help="the bug depth pct aims at (3)")
    run.add_argument("--no-symmetry", dest="symmetry", action="store_const", const=False, default=None,
                     help="stateful: keep threads built alike apart (symmetry reduction is on by default)")
    run.add_argument("--max-states", type=_whole(1), default=None, metavar="N",
                     help="stateful: stop after storing this many states (the result says INCOMPLETE)")
    run.add_argument("--exact-states", action="store_const", const=True, default=None,
                     help="stateful: store whole state keys, not 64-bit fingerprints")
    run.add_argument("-j", "--workers", dest="workers", type=_workers, default=1, metavar="N",
                     help="explore each scenario on N worker processes, 'auto' for one per core (the same "
                          "result as one; a scenario done within a quarter second uses none)")
    run.add_argument("--backend", default="processes", choices=("processes", "ray"),
                     help="where -j's workers run: processes of this machine (the default) or Ray")
    run.add_argument("--address", default=None, metavar="ADDRESS",
                     help="the Ray cluster for --backend ray ('auto', 'ray://head:10001'); none: a local one")
    run.add_argument("--max-executions", type=_whole(1), default=None, metavar="N",
                     help="stop each exploration after this many executions (the result says INCOMPLETE)")
    run.add_argument("--max-steps", type=_whole(1), default=DEFAULT_MAX_STEPS, metavar="N",
                     help=f"steps one execution may take before it counts as endless (default "
                          f"{DEFAULT_MAX_STEPS:,})")
    run.add_argument("--time-limit", type=_seconds(), default=None, metavar="SECONDS", help="seconds per scenario")
    run.add_argument("--step-timeout", type=_seconds(off=True), default=DEFAULT_STEP_TIMEOUT, metavar="SECONDS",
                     help="seconds one step's code may run before it counts as hung (default 10; 'none': "
                          "no watchdog, a step may run for ever)")
    run.add_argument("-q", "--quiet", action="store_true", help="one line per finding, no traces")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="also print every outcome with its return values")
    run.add_argument("--ignore-expect", action="store_true",
                     help="judge every scenario by its raw findings (fail on any error finding), even "
                          "one whose Expect states them")
    run.add_argument("--untracked", action="store_true",
                     help="for a plain program (explorer.program): also list the attributes and globals "
                          "that several threads write but that are not tracked, with the track= to add "
                          "(a slow tracer over 20 random runs)")
    run.add_argument("--color", choices=("auto", "yes", "no"), default="auto",
                     help="colour the verdicts: auto (on a terminal, unless NO_COLOR is set), yes, no")
    run.add_argument("--json", dest="json_file", metavar="FILE",
                     help="write the results as JSON (docs/json-format.md) to FILE; '-' writes them to "
                          "standard output and the text to standard error")
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
    listing.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    listing.add_argument("-k", dest="select", metavar="EXPRESSION", help=_K_HELP)
    again = commands.add_parser(
        "replay", help="replay a saved trace step by step",
        description="Replay one trace (from --save-trace, or a finding of a --json result file), or one "
                    "schedule typed as thread names, against its scenario and show it step by step. The "
                    "scenario is found in PATH by the name the file records, by FILE::NAME, or by -k.",
        epilog="examples:\n  explorer replay scenarios/counter.py::lost_update --schedule A,B,B,A\n"
               "  explorer run scenarios/counter.py --save-trace traces/\n"
               "  explorer replay scenarios/counter.py --trace traces/lost-update-0-lost-update.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    again.add_argument("paths", nargs="+", metavar="PATH", help="the scenario file or folder (FILE::NAME "
                                                                "picks one scenario)")
    given = again.add_mutually_exclusive_group(required=True)
    given.add_argument("--trace", metavar="FILE", help="a trace file or a result file")
    given.add_argument("--schedule", metavar="A,B,...",
                       help="the schedule: the thread to run at each step, separated by commas; "
                            "NAME*N for N steps of one thread in a row (A*200,B,A)")
    again.add_argument("--extend", action="store_true",
                       help="finish a schedule that stops while threads can still run, without further "
                            "preemptions (the last thread runs on while it can)")
    again.add_argument("--finding", default=None, metavar="N|KIND",
                       help="in a result file: the finding's position or kind (default: the only one)")
    again.add_argument("-k", dest="select", metavar="EXPRESSION", help="the scenario -k selects (" + _K_HELP
                       + ")")
    again.add_argument("--max-steps", type=_whole(1), default=DEFAULT_MAX_STEPS, metavar="N",
                       help=f"steps the execution may take before it counts as endless, as "
                            f"'explorer run --max-steps' took it (default {DEFAULT_MAX_STEPS:,})")
    again.add_argument("--fair", action="store_true",
                       help="keep to fair schedules, as 'explorer run --fair' did (its traces replay so)")
    check = commands.add_parser(
        "crosscheck", help="run scenarios on real threads many times and compare with exploration",
        description="Run each scenario's threads on real threading.Thread objects many times and "
                    "print what they did, next to what exploration predicted. Exit status 1 if real "
                    "threads did something exploration never produced (the model is wrong).",
        epilog="example:\n  explorer crosscheck scenarios/counter.py --runs 2000 --seed 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    check.add_argument("-k", dest="select", metavar="EXPRESSION", help=_K_HELP)
    check.add_argument("--runs", type=_whole(1), default=1000, metavar="N", help="runs per scenario (default 1000)")
    check.add_argument("--time-limit", type=_seconds(), default=None, metavar="SECONDS",
                       help="seconds per scenario, exploration and runs together (an exploration cut short "
                            "judges nothing it did not reach)")
    check.add_argument("--max-steps", type=_whole(1), default=DEFAULT_MAX_STEPS, metavar="N",
                       help=f"steps one execution may take, explored or real (default {DEFAULT_MAX_STEPS:,})")
    check.add_argument("--fair", action="store_true",
                       help="explore fair schedules only, as 'explorer run --fair' (polling loops end)")
    check.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the random pauses between steps")
    check.add_argument("--timeout", type=_seconds(), default=2.0, metavar="SECONDS",
                       help="seconds without progress before a run is given up (default 2)")
    check.add_argument("--json", dest="json_file", metavar="FILE",
                       help="also write the tables as JSON to FILE")
    return parser


def _main(argv: list[str] | None, so_far: _Status) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        _check_options(parser, args)

    try:
        matches = keyword_matcher(args.select) if getattr(args, "select", None) else None
    except ExplorerError as exc:
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    paths, named = _split_names(args.paths)
    notes: list[str] = []
    try:
        found, failures = load_scenarios(paths, notes=notes)
    except FileNotFoundError as exc:
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"explorer: {note}", file=sys.stderr)
    for failure in failures:
        print(f"explorer: {failure}", file=sys.stderr)
    status = 2 if failures else 0
    for file, names in named.items():
        there = [attribute for f, attribute, _ in found if str(Path(f)) == file]
        for name in sorted(set(names) - set(there)):
            print(f"explorer: {file} has no scenario named {name!r}; its scenarios are {there}",
                  file=sys.stderr)
            status = 2
    chosen = _once([item for item in found if _picked(item, named, matches)])
    if not chosen and not named:
        print(f"explorer: {nothing_collected(paths, found, failures, getattr(args, 'select', None))}",
              file=sys.stderr)
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
    unwritten: list[str] = []  # one line per file that could not be written, said at the end
    if args.json_file == "-":  # standard output carries the JSON alone; the text goes to stderr
        with contextlib.redirect_stdout(sys.stderr):
            status, results = _run(args, chosen, status, so_far, unwritten, len(failures))
    else:
        status, results = _run(args, chosen, status, so_far, unwritten, len(failures))
    if args.json_file:
        from .json_format import result_to_dict

        document = {"format": "explorer-run", "version": 1, "results": [result_to_dict(r) for r in results]}
        unwritten += _output("--json", args.json_file, json.dumps(document, indent=2, allow_nan=False) + "\n")
    so_far.finished = True
    for failure in unwritten:
        print(f"explorer: {failure}", file=sys.stderr)
    if unwritten and status in (0, 1, EXIT_INCOMPLETE):
        status = 2
    return status


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


_K_HELP = ("only scenarios whose FILE::NAME or name contains the words, combined as pytest's -k does: "
           "-k 'counter and not locked', -k 'abba or lock'")


def _split_names(paths: list[str]) -> tuple[list[str], dict[str, set[str]]]:
    """``FILE::NAME`` arguments split into the files to load and, per file, the names picked."""
    files, named = [], {}
    for path in paths:
        file, _, name = str(path).partition("::")
        files.append(file)
        if name:
            named.setdefault(str(Path(file)), set()).add(name)
    return files, named


def _once(chosen: list) -> list:
    """Each scenario once, under the first name it was found by (an alias, ``c = a``, is
    the same scenario), and where it was made: one file's scenario that another chosen
    file imports runs in its own."""
    def at_home(item) -> bool:
        return Path(item[2].source.rsplit(":", 1)[0]).resolve() == Path(item[0]).resolve()

    # What is chosen in the file that made it runs only there. One imported elsewhere (the
    # loader's copy of a file and an import of it are two modules: two objects, told apart
    # by where and as what they were made) and chosen only there, by FILE::NAME or -k,
    # still runs, under the name it was chosen by.
    home = {(item[2].source, item[2].name) for item in chosen if at_home(item)}
    seen: set[int] = set()
    once = []
    for item in chosen:
        if id(item[2]) in seen or (not at_home(item) and (item[2].source, item[2].name) in home):
            continue
        seen.add(id(item[2]))
        once.append(item)
    return once


def _picked(item, named: dict[str, set[str]], matches) -> bool:
    file, attribute, scenario = item
    names = named.get(str(Path(file)))
    if names is not None and attribute not in names:
        return False
    return matches is None or matches([f"{file}::{attribute}", scenario.name])


def _run(args, chosen, status: int, so_far: _Status, unwritten: list[str], unloaded: int = 0) -> tuple[int, list]:
    """``explorer run``: explore each scenario, print it, judge it; then the closing line
    (``unloaded``: how many files could not be loaded, said there too)."""
    paint = _painter(args.color, sys.stdout)
    results, verdicts = [], []
    unseen = 0  # untracked shared state the plain programs' looks found: warnings of their own
    slugs: set = set()  # the names --graph and --save-trace files took in this run
    started = time.perf_counter()
    for file, attribute, scenario in chosen:
        print(f"{file}::{attribute}")
        bar = _ProgressBar() if sys.stderr.isatty() else None
        try:
            result = explore(scenario, strategy=args.strategy, max_executions=args.max_executions,
                             max_steps=args.max_steps, time_limit=args.time_limit, step_timeout=args.step_timeout, progress=bar,
                             seed=args.seed, preemptions=args.preemptions, depth=args.depth,
                             workers=args.workers, backend=args.backend, address=args.address,
                             fair=args.fair, **_stateful_options(args))
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = so_far.status = 2
            verdicts.append(UNUSABLE)
            continue
        finally:
            if bar is not None:
                bar.clear()
        verdict, line = _judge(result, ignore_expect=args.ignore_expect)
        if verdict == "passed" and result.complete and not result.steps and not result.findings:
            verdict, line = EMPTY, (line + "\n" if line else "") + (
                "  checked nothing: no thread took a step (each returned before its first yield), so no "
                "interleaving was explored")
        so_far.status = _worst(so_far.status, verdict)  # before the printing, which a closed pipe stops
        hint = _command_hint(file, attribute, args.max_steps, args.fair)
        print(paint(render_result(result, traces=not args.quiet, hint=hint)))
        if args.verbose:
            print("  outcomes (final state and return values):")
            for outcome, count in sorted(result.outcomes.items(), key=lambda item: -item[1]):
                print(f"    {outcome}  {count}")
        if line:
            print(paint(line))
        if getattr(scenario, "plain", None) is not None:
            blind = _show_untracked(scenario, result, full=args.untracked)
            unseen += blind
            if blind and verdict == "passed":
                # shared state the search never stepped on: what it proves leaves that out
                verdict = "incomplete"
                print(paint(f"  INCOMPLETE: {blind} untracked shared object{'' if blind == 1 else 's'} above: "
                            f"no interleaving of {'its' if blind == 1 else 'their'} reads and writes was explored"))
        so_far.status = _worst(so_far.status, verdict)
        results.append(result)
        verdicts.append(verdict)
        unwritten += _write_artifacts(args, result, file, attribute, slugs)
        print()
        if result.stop_reason == "interrupted":
            print(f"explorer: {_STOPPED_BY[0]}; the result above is partial, and no further "
                  "scenario was explored", file=sys.stderr)
            status = so_far.status = 130
            break
    if args.report_file:
        from .report_html import render_report

        failed = _output("--report", args.report_file, render_report(results, expect=not args.ignore_expect))
        if not failed and args.report_file != "-":
            print(f"report: {Path(args.report_file)}")
        unwritten += failed
    print(paint(_closing_line(results, verdicts, time.perf_counter() - started, unseen, unloaded)))
    for verdict in verdicts:
        status = _worst(status, verdict)
    return status, results


#: The verdict of a scenario that checked nothing: its threads took no step.
EMPTY = "checked nothing"
#: The verdict of a scenario explore() refused (its error came first, on standard error).
UNUSABLE = "unusable"


def _worst(status: int, verdict: str) -> int:
    """The exit status so far, after a scenario judged ``verdict``: a failure (1) over an
    incomplete exploration (3) over one that checked nothing (5) over a pass (0); an
    unusable file or scenario (2) or Ctrl-C (130) stays."""
    rank = {0: 0, EXIT_NOTHING_COLLECTED: 1, EXIT_INCOMPLETE: 2, 1: 3}
    wanted = {"failed": 1, "incomplete": EXIT_INCOMPLETE, EMPTY: EXIT_NOTHING_COLLECTED}.get(verdict, 0)
    if status in rank and rank[wanted] > rank[status]:
        return wanted
    return status


def _whole(least: int):
    """An option's type: a whole number of at least ``least``."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {least}, got {text!r}")
        return value
    return whole


def _seconds(off: bool = False):
    """An option's type: seconds, a finite number above 0 (``off``: or 'none', no limit)."""
    def seconds(text: str) -> float | None:
        if off and text.lower() in ("none", "off"):
            return None
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a number of seconds above 0{', or none' if off else ''}, "
                                             f"got {text!r}")
        return value
    return seconds


def _workers(text: str) -> int | str:
    """-j's value: a number of workers, or 'auto'."""
    if text == "auto":
        return text
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a number of workers (1 or more) or 'auto', got {text!r}")
    return count


def _check_options(parser: argparse.ArgumentParser, args) -> None:
    """Once, before any scenario: the strategies' options, and those -j goes with, as the
    command line names them (explore() would refuse them for every scenario alike)."""
    if args.strategy is None:
        args.strategy = "exhaustive" if args.fair else "dpor"
    if args.fair and args.strategy not in FAIR:
        parser.error(f"--fair goes with --strategy {', '.join(FAIR)}; --strategy {args.strategy} "
                     f"does not support it yet (its states and sleep sets know nothing of who owes whom)")
    owners = {"--no-symmetry": ("symmetry", ("stateful", "auto")),
              "--max-states": ("max_states", ("stateful", "auto")),
              "--exact-states": ("exact_states", ("stateful", "auto")),
              "--preemptions": ("preemptions", ("bounded",)), "--depth": ("depth", ("pct",))}
    for flag, (name, strategies) in owners.items():
        if getattr(args, name) is not None and args.strategy not in strategies:
            parser.error(f"{flag} is an option of --strategy {' or '.join(strategies)}, not {args.strategy}")
    if args.address is not None and args.backend != "ray":
        parser.error("--address names a Ray cluster: it goes with --backend ray")
    if args.backend != "processes" and args.workers == 1:
        parser.error(f"--backend {args.backend} runs -j's workers: give -j N (2 or more) or -j auto")
    if args.json_file == "-" and args.report_file == "-":
        parser.error("--json - and --report - would both write to standard output: send one to a file")
    if args.workers != 1 and args.strategy == "auto":
        parser.error("--strategy auto takes its turns in one process: with -j, choose --strategy dpor or stateful")
    why = None if args.workers == "auto" else too_many_workers(args.workers, args.backend)
    if why is not None:
        parser.error(f"-j {args.workers}: {why}")


#: The quick look for untracked shared state that `explorer run` takes at every plain
#: program: a few traced runs, within a few seconds (``--untracked``: the full check).
QUICK_UNTRACKED_RUNS = 3
QUICK_UNTRACKED_SECONDS = 2.0


def _show_untracked(scenario, result, full: bool) -> int:
    """Shared state several threads write that the exploration did not see: with
    ``--untracked`` the full check, listed under its heading; otherwise a quick look,
    shown only when it finds some, as warnings (a global counter's race is no step), or
    when it ran out of time, as a note. No quick look after an exploration that stopped
    short of its runs (Ctrl-C, the time limit, a step that hangs, a fault in the
    scenario): it would stop there too. Ctrl-C during either raises KeyboardInterrupt."""
    from .plain import untracked
    from .plain.untracked import look

    if full:
        blind = untracked(scenario)
        print("  untracked shared state: " + ("none seen" if not blind else ""))
        for entry in blind:
            print(f"    {entry}")
        return len(blind)
    if result.stop_reason not in (None, "max_executions"):
        return 0
    try:
        blind, stop_reason = look(scenario, QUICK_UNTRACKED_RUNS, 0, QUICK_UNTRACKED_SECONDS)
    except ExplorerError:
        return 0  # the exploration above said what is wrong with the scenario
    if stop_reason == "interrupted":
        raise KeyboardInterrupt
    if not blind and stop_reason == "time_limit":
        print(f"  note: the quick look for untracked shared state (globals and attributes several threads "
              f"write, which are no steps) ran out of its {QUICK_UNTRACKED_SECONDS:g} s: run with "
              f"--untracked for the full check")
    for entry in blind:
        name = entry.name if entry.kind == "global" else f"{entry.owner}.{entry.name}"
        print(f"  WARNING [untracked] {entry.kind} {name} is written by {', '.join(entry.threads)} (first at "
              f"{entry.location}) but not tracked, so no interleaving of its reads and writes was explored: "
              f"{entry.fix} (--untracked: the full check)")
    return len(blind)


def _stateful_options(args) -> dict:
    """The stateful strategy's options given on the command line (explore() refuses them
    for other strategies, with a message naming the option)."""
    options = {"symmetry": args.symmetry, "max_states": args.max_states, "exact_states": args.exact_states}
    return {name: value for name, value in options.items() if value is not None}


def _judge(result, *, ignore_expect: bool) -> tuple[str, str]:
    """``(verdict, line)``: ``passed``, ``failed`` or ``incomplete``, and what the scenario's
    Expect says (empty without one). An incomplete exploration whose Expect otherwise holds
    is ``incomplete``, not ``passed``: it proves nothing; and what it has not shown yet is
    no failure (it may lie past the cut), where what it shows and the Expect rules out is."""
    expect = None if ignore_expect else result.scenario.expect
    if expect is None:
        if any(f.severity == "error" for f in result.findings):
            return "failed", ""
        return ("passed" if result.complete else "incomplete"), ""
    verdict, sentence = expect.verdict(result)
    return verdict, "  " + sentence


def _closing_line(results, verdicts: list[str], seconds: float, untracked: int = 0, unloaded: int = 0) -> str:
    """pytest's last line: scenarios by verdict, findings by severity (``untracked``: the
    warnings the looks for untracked shared state printed), time; and the files that could
    not be loaded (``unloaded``), whose errors came first."""
    counts = [f"{verdicts.count(v)} {v}" for v in ("failed", "passed", "incomplete", EMPTY, UNUSABLE)
              if v in verdicts]
    if unloaded:
        counts.append(f"{unloaded} file{'' if unloaded == 1 else 's'} could not be loaded")
    findings = [f for r in results for f in r.findings]
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors + untracked
    scenarios = f"{len(verdicts)} scenario{'' if len(verdicts) == 1 else 's'}"
    text = (f"{scenarios}: {', '.join(counts) or 'none run'}; "
            f"findings: {errors} error{'' if errors == 1 else 's'}, {warnings} warning"
            f"{'' if warnings == 1 else 's'}; {seconds:.2f}s")
    return f"== {text} =="


def _command_hint(file, attribute: str, max_steps: int = DEFAULT_MAX_STEPS, fair: bool = False):
    """The command that replays a trace of this scenario, as ``explorer replay`` takes it
    (with the run's ``--max-steps``, so that a trace cut short there is cut short again,
    and ``--fair``, so that its steps see the enabled threads the search saw)."""
    from .render import FOLD_AT, replay_hint, runs

    def hint(trace) -> str:
        if any("," in name or not name.strip() or name != name.strip() for name in trace.schedule):
            return replay_hint(trace, fair=fair)  # thread names a comma list cannot carry
        if any(_REPEATED.fullmatch(name) for name in trace.schedule):
            schedule = ",".join(trace.schedule)  # a name that reads as a repeat: spelled out
        else:
            schedule = ",".join(f"{name}*{count}" if count >= FOLD_AT else ",".join([name] * count)
                                for name, count in runs(trace.schedule))
        steps = ("" if max_steps == DEFAULT_MAX_STEPS else f" --max-steps {max_steps}") + (" --fair" if fair else "")
        return (f"explorer replay {shlex.quote(f'{file}::{attribute}')} --schedule {shlex.quote(schedule)}"
                f"{steps}")

    return hint


_COLOURS = {"ERROR": "31;1", "FAILS": "31;1", "failed": "31;1", "WARNING": "33", "INCOMPLETE": "33",
            "incomplete": "33", "holds": "32", "passed": "32"}
# Only the verdict words where they are verdicts: a message saying a thread "holds" a lock stays plain.
_PAINTED = re.compile(r"\b(ERROR|WARNING)(?= \[)|(?<=expect: )(holds|FAILS)|\bINCOMPLETE\b"
                      r"|(?<=\d )(failed|passed|incomplete)(?=[,;])")


def _painter(choice: str, stream):
    """A function that colours the verdict words of a text, or leaves it alone: colour is
    on for ``yes``, and for ``auto`` on a terminal when ``NO_COLOR`` is unset."""
    isatty = getattr(stream, "isatty", None)
    on = choice == "yes" or (choice == "auto" and not os.environ.get("NO_COLOR") and isatty is not None and isatty())
    if not on:
        return lambda text: text
    return lambda text: _PAINTED.sub(lambda m: f"\033[{_COLOURS[m[0]]}m{m[0]}\033[0m", text)


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


def _write_artifacts(args, result, file, attribute: str, slugs: set) -> list[str]:
    """The per-scenario files --graph and --save-trace ask for; returns one line per file
    that could not be written (the run goes on with the next scenario). Files are named
    after the scenario's title; a title another scenario of this run took (``slugs``)
    gets its file and name added, so that no file overwrites another."""
    from .errors import GraphTooLarge
    from .export import write_graph
    from .json_format import trace_to_json

    failed: list[str] = []
    slug = _slug(result.scenario.name) or "scenario"
    if slug in slugs:
        slug = _slug(f"{slug}-{Path(file).stem}-{attribute}")
        while slug in slugs:
            slug += "-again"
    slugs.add(slug)
    if args.graph_dir:
        folder = Path(args.graph_dir)
        written = bool(result.lock_order)  # and the states, unless their graph is too large
        try:
            states = result.state_graph
            written = True
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
        if written and not failed:
            print(f"  graphs written to {folder}/{slug}-*")
    if args.trace_dir:
        for number, finding in enumerate(result.findings):
            path = Path(args.trace_dir) / f"{slug}-{number}-{finding.kind}.json"
            text = trace_to_json(finding.trace, scenario=result.scenario, source=f"{file}::{attribute}") + "\n"
            failure = _saved("--save-trace", path, lambda path=path, text=text: _write_text(path, text))
            if failure:
                failed += failure
                break  # the next ones would fail alike
            print(f"  trace of finding {number} ({finding.kind}): {path}")
    return failed


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def _one_result(run: dict, select: str | None, where: str, chosen=()) -> dict:
    """From an ``explorer run --json`` file, the result of the one scenario ``FILE::NAME``
    or -k picked (``chosen``), else the one -k names, else the only one with findings."""
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
    picked = []
    if len({item[2].name for item in chosen}) == 1:  # FILE::NAME, or -k on FILE::NAME, picked one
        picked = [r for r, name in zip(results, names) if name == chosen[0][2].name]
    if not picked and select:
        matches = keyword_matcher(select)
        picked = [r for r, name in zip(results, names) if matches([name])]
    elif not picked:
        picked = [r for r in results if r.get("findings")]
    if len(picked) != 1:
        raise InvalidArgument(f"{where}: the file holds the results of {names}; name one with FILE::NAME or -k")
    return picked[0]


#: An item of ``--schedule`` that stands for a thread's steps in a row: ``A*9996``.
_REPEATED = re.compile(r"(.*\S)\s*\*\s*(\d+)")


def _schedule_of(text: str, max_steps: int) -> tuple[str, ...] | str:
    """``--schedule``'s threads: names separated by commas, ``NAME*N`` for N in a row; or,
    for a schedule longer than ``max_steps`` (no run takes more), what is wrong with it."""
    names: list[str] = []
    if not text.strip():
        return ()  # no step: a run that fails before its first (a thread raises at its start)
    for item in text.split(","):
        item = item.strip()
        repeated = _REPEATED.fullmatch(item)
        if repeated:
            count = int(repeated[2])
            if len(names) + count > max_steps:
                return (f"{item!r} makes the schedule {len(names) + count:,} steps long, more than "
                        f"--max-steps={max_steps:,} lets a run take (raise --max-steps for a longer one)")
            names += [repeated[1].strip()] * count
        else:
            names.append(item)
    return tuple(names)


def _replay(args, chosen, status: int) -> int:
    from .explore import replay

    if args.schedule is not None:
        if len(chosen) != 1:
            names = [f"{file}::{attribute}" for file, attribute, _ in chosen]
            print(f"explorer: --schedule replays one scenario; found {len(chosen)}: {names} (name one as "
                  f"FILE::NAME or with -k)", file=sys.stderr)
            return 2
        file, attribute, scenario = chosen[0]
        trace = _schedule_of(args.schedule, args.max_steps)
        if isinstance(trace, str):
            print(f"explorer: --schedule: {trace}", file=sys.stderr)
            return 2
    else:
        picked = _saved_trace(args, chosen)
        if isinstance(picked, int):
            return picked
        (file, attribute, scenario), trace = picked
    try:
        execution = replay(scenario, trace, max_steps=args.max_steps, extend=args.extend, fair=args.fair)
    except ExplorerError as exc:
        print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
        return 2
    if args.schedule is None:
        mismatch = _other_steps(trace, execution.trace)
        if mismatch:
            print(f"explorer: {args.trace}: the trace was not recorded from {file}::{attribute} as it is now: "
                  f"{mismatch}; record it again with 'explorer run --save-trace'", file=sys.stderr)
            return 2
    print(f"{file}::{attribute}")
    if args.schedule is None and execution.trace.schedule == trace.schedule and trace.marks:
        # the saved trace's marks (the stale read, the lost write...) belong to this very schedule
        execution = replace(execution, trace=replace(execution.trace, marks=trace.marks))
    print(execution.render())
    if status == 0 and any(f.severity == "error" for f in execution.findings):
        status = 1
    return status


def _saved_trace(args, chosen):
    """``(the scenario, the trace)`` --trace names, or the exit status when it cannot be used."""
    from .json_format import load_trace, read_json_file

    finding = args.finding
    if finding is not None and finding.isdigit():
        finding = int(finding)
    try:
        recorded = read_json_file(args.trace)
        if isinstance(recorded, dict) and recorded.get("format") == "explorer-run":
            recorded = _one_result(recorded, args.select, f"result file {args.trace!r}", chosen)
        trace = load_trace(recorded, finding=finding)
    except (OSError, ValueError) as exc:  # ExplorerErrors are ValueErrors too
        print(f"explorer: {args.trace}: {exc}", file=sys.stderr)
        return 2
    name = recorded.get("scenario")
    name = name.get("name") if isinstance(name, dict) else name
    candidates = [item for item in chosen if args.select or item[2].name == name]
    source = recorded.get("source")
    if len(candidates) > 1 and isinstance(source, str):  # scenarios titled alike: the one it came from
        file, _, attribute = source.rpartition("::")
        candidates = [item for item in candidates if item[1] == attribute and _same_file(item[0], file)]
    if len(candidates) != 1:
        names = [item[2].name for item in chosen]
        print(f"explorer: the trace is of scenario {name!r}; found {len(candidates)} matching scenarios "
              f"among {names} (use -k to pick one)", file=sys.stderr)
        return 2
    return candidates[0], trace


def _same_file(one, other: str) -> bool:
    try:
        return Path(one).resolve() == Path(other).resolve()
    except OSError:
        return str(one) == other


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
            check = crosscheck(scenario, runs=args.runs, seed=args.seed, timeout=args.timeout,
                               max_steps=args.max_steps, time_limit=args.time_limit, fair=args.fair)
        except ExplorerError as exc:
            print(f"explorer: {file}::{attribute}: {exc}", file=sys.stderr)
            status = so_far.status = 2
            continue
        if check.unexpected and status in (0, EXIT_INCOMPLETE):
            status = so_far.status = 1
        elif status == 0 and (not check.model.complete or check.stopped_early):
            status = so_far.status = EXIT_INCOMPLETE  # what was not explored or not run proves nothing
        print(check.render())
        print()
        tables.append(check.to_dict())
        if check.interrupted:
            status = so_far.status = 130
            break
    so_far.finished = True
    if args.json_file:
        for failure in _output("--json", args.json_file, json.dumps(tables, indent=2, allow_nan=False) + "\n"):
            print(f"explorer: {failure}", file=sys.stderr)
            status = max(status, 2) if status != 130 else status
    return status


if __name__ == "__main__":
    sys.exit(main())
