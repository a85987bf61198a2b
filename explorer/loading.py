"""Finding ``Scenario`` objects in files and folders. Loading a file runs its code."""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from ._text import text_of
from .scenario import Scenario

__all__ = ["LoadFailure", "load_scenarios", "nothing_collected"]


class NotPython(Exception):
    """A file named on the command line that is not Python source."""


@dataclass(frozen=True)
class LoadFailure:
    """A file that could not be imported, and why."""

    path: Path
    error: BaseException

    def __str__(self) -> str:
        if isinstance(self.error, NotPython):
            return f"{self.path}: cannot load: {self.error}"
        line = _failing_line(self.path, self.error)
        at = f" (at {self.path}:{line})" if line is not None else ""
        return f"{self.path}: cannot load: {type(self.error).__name__}: {text_of(self.error)}{at}"


def _failing_line(path: Path, error: BaseException) -> int | None:
    """The line of ``path`` the import failed at: the innermost traceback frame in that file."""
    if isinstance(error, SyntaxError):
        return None  # its message already says "(file, line n)"
    line, tb = None, error.__traceback__
    target = str(Path(path).resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def load_scenarios(paths: list[str | Path], *, notes: list[str] | None = None,
                   ) -> tuple[list[tuple[Path, str, Scenario]], list[LoadFailure]]:
    """Import every ``.py`` file under ``paths`` and collect its module-level scenarios
    (those in a module-level list, tuple or dict too: :func:`_scenarios_in`).

    Returns ``(found, failures)``: ``found`` holds ``(file, attribute name, scenario)``
    in file order, then definition order; a file that fails to import (whatever it
    raises, but Ctrl-C) is a failure, and the others still load. In a folder, what is not
    a regular file (a FIFO, a device, a link to one) is never opened: it is skipped, with
    a line added to ``notes`` if given; named on its own, it is a failure.
    """
    found, failures = [], []
    for file in _python_files(paths, notes if notes is not None else []):
        if not file.is_file():
            failures.append(LoadFailure(file, OSError(f"{_kind(file)}, not a regular file: not opened")))
            continue
        if file.suffix != ".py":
            failures.append(LoadFailure(file, NotPython("not a Python file: scenarios are loaded from .py files")))
            continue
        try:
            module = _import(file)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - sys.exit(), GeneratorExit... at import fail this file, not the CLI
            failures.append(LoadFailure(file, exc))
            continue
        found += _scenarios_in(file, module)
    return found, failures


def _scenarios_in(file: Path, module) -> list[tuple[Path, str, Scenario]]:
    """A module's scenarios: each at module level under its name, and each in a list,
    tuple or dict at module level under ``NAME[index]`` or ``NAME['key']`` (a family of
    scenarios made in a loop), once: one also named at module level is not counted again."""
    found = []
    seen = set()
    for attribute, value in vars(module).items():
        if isinstance(value, Scenario):
            found.append((file, attribute, value))
            seen.add(id(value))
    for attribute, value in vars(module).items():
        if attribute.startswith("__") or not isinstance(value, list | tuple | dict):
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in list(items):
            if isinstance(item, Scenario) and id(item) not in seen:
                seen.add(id(item))
                found.append((file, f"{attribute}[{key!r}]", item))
    return found


def nothing_collected(paths: list[str | Path], found: list, failures: list, select: str | None) -> str:
    """One line saying why no scenario was collected from ``paths``, and how to fix it."""
    shown = ", ".join(map(str, paths))
    if found and select:
        names = [f"{file}::{attribute}" for file, attribute, _scenario in found]
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        return (f"no scenario matches -k {select!r}; the {len(names)} scenarios found in {shown} are "
                f"{listed} (-k matches words of FILE::NAME or of a scenario's name, ignoring case)")
    files = _python_files(paths, [])
    if not files:
        return f"nothing collected: no Python file (.py) in {shown}"
    loaded = [file for file in files if file not in {failure.path for failure in failures}]
    if not loaded:
        return f"nothing collected: no file in {shown} could be loaded"
    threaded = [(file, tree) for file in loaded for tree in [_parsed(file)] if _uses_threading(file, tree)]
    hint = ""
    if threaded:
        hint = f"; {threaded[0][0]} uses threading: {_program_hint(*threaded[0])}"
    return (f"nothing collected: no Scenario object at module level in {len(loaded)} file"
            f"{'s' if len(loaded) != 1 else ''} read from {shown}{hint}")


#: The package name scenario files are run under (not importable: a parallel exploration
#: sends their functions to the workers by value).
LOADED = "explorer_scenarios"

_THREADING_MODULES = ("threading", "concurrent.futures", "concurrent")
_STARTERS = frozenset({"Thread", "Timer", "ThreadPoolExecutor", "start"})


def _parsed(file: Path) -> ast.Module | None:
    try:
        return ast.parse(file.read_bytes(), str(file))
    except (OSError, SyntaxError, ValueError):
        return None


def _uses_threading(file: Path, tree: ast.Module | None) -> bool:
    """Whether ``file`` imports ``threading`` or ``concurrent.futures`` (or, when it cannot
    be parsed, names them)."""
    if tree is None:
        try:
            with open(file, "rb") as stream:
                head = stream.read(1 << 20)
        except OSError:
            return False
        return b"threading" in head or b"concurrent.futures" in head
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.startswith(_THREADING_MODULES) for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(_THREADING_MODULES):
            return True
    return False


def _program_hint(file: Path, tree: ast.Module | None) -> str:
    """The line that makes ``file``'s threading code a scenario, with the names found there:
    a top-level ``main`` (or the first function that starts threads, taking no argument),
    and the classes it makes (or, if it makes none, every class the file defines)."""
    body = tree.body if tree is not None else []
    functions = [node for node in body if isinstance(node, ast.FunctionDef) and _no_required_arguments(node)]
    main = next((f for f in functions if f.name == "main"), None) or \
        next((f for f in functions if _starts_threads(f)), None)
    classes = [node.name for node in body if isinstance(node, ast.ClassDef) and not _is_thread(node)]
    if main is not None:
        made = {call.func.id for call in ast.walk(main)
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)}
        classes = [name for name in classes if name in made] or classes
    name = file.stem if main is None or main.name == "main" else main.name
    imported = _explorer_import(body)
    call = "program" if imported == "program" else "explorer.program"
    track = f", track=[{', '.join(classes)}]" if classes else ""
    line = f'scenario = {call}("{name}", {main.name if main is not None else "main"}{track})'
    where = "at its end" if imported else "at its end (and import explorer at its top)"
    if main is not None:
        return f"to check its code as written, add this line {where}: {line}"
    return (f"to check its code as written, put what starts its threads in a function main() and add this "
            f"line {where}: {line}; or write each thread's body as a generator function that yields "
            f"read('x'), write('x', value), acquire('lock') and release('lock') steps, and assign "
            f"Scenario('name', variables={{'x': 0}}, locks=['lock'], threads={{'A': body, 'B': body}}) "
            f"to a module-level name")


def _no_required_arguments(function: ast.FunctionDef) -> bool:
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    return len(arguments.defaults) == len(positional) and all(d is not None for d in arguments.kw_defaults)


def _starts_threads(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in _STARTERS:
                return True
    return False


def _is_thread(cls: ast.ClassDef) -> bool:
    return any((base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)) == "Thread"
               for base in cls.bases)


def _explorer_import(body: list) -> str | None:
    """``"explorer"`` if the file imports explorer, ``"program"`` if it imports
    ``program`` from it, else None."""
    found = None
    for node in body:
        if isinstance(node, ast.Import) and any(a.name == "explorer" and not a.asname for a in node.names):
            found = found or "explorer"
        elif isinstance(node, ast.ImportFrom) and node.module == "explorer" and \
                any(a.name == "program" and a.asname is None for a in node.names):
            found = "program"
    return found


def _kind(path: Path) -> str:
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return "unreadable"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def _python_files(paths: list[str | Path], notes: list[str]) -> list[Path]:
    """The files to load, in the order given; a file named twice (or inside a folder named
    too) once, as pytest collects it once."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*.py") if p.name != "__init__.py"):
                if file.is_file():
                    files.append(file)
                else:
                    notes.append(f"{file}: skipped: {_kind(file)}, not a regular file")
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    seen: set = set()
    once = []
    for file in files:
        try:
            key = file.resolve()
        except OSError:
            key = file
        if key not in seen:
            seen.add(key)
            once.append(file)
    return once


def _import(file: Path):
    name = LOADED + "." + "_".join(file.resolve().with_suffix("").parts[-3:])
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    # What pytest's default import mode gives a test module: the folder above its packages
    # first on sys.path, so that it imports a helper beside it (``from common import inc``)
    # or in its package (``from .common import inc``, ``from course.common import inc``)
    base, package = _package_of(file.resolve())
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))
    if package:
        module.__package__ = package
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _package_of(file: Path) -> tuple[Path, str]:
    """The first folder above ``file`` that is no package (has no ``__init__.py``), and the
    dotted name of the package ``file`` lies in below it ("" for none)."""
    folder, parts = file.parent, []
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.append(folder.name)
        folder = folder.parent
    return folder, ".".join(reversed(parts))
