"""Finding ``Scenario`` objects in files and folders. Loading a file runs its code."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from ._text import text_of
from .scenario import Scenario

__all__ = ["LoadFailure", "load_scenarios"]


@dataclass(frozen=True)
class LoadFailure:
    """A file that could not be imported, and why."""

    path: Path
    error: BaseException

    def __str__(self) -> str:
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


def load_scenarios(paths: list[str | Path]) -> tuple[list[tuple[Path, str, Scenario]], list[LoadFailure]]:
    """Import every ``.py`` file under ``paths`` and collect its module-level scenarios.

    Returns ``(found, failures)``: ``found`` holds ``(file, attribute name, scenario)``
    in file order, then definition order; a file that fails to import is a failure,
    and the others still load.
    """
    found, failures = [], []
    for file in _python_files(paths):
        try:
            module = _import(file)
        except (Exception, SystemExit) as exc:  # sys.exit() at import fails this file, not the CLI
            failures.append(LoadFailure(file, exc))
            continue
        for attribute, value in vars(module).items():
            if isinstance(value, Scenario):
                found.append((file, attribute, value))
    return found, failures


def _python_files(paths: list[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.py") if p.name != "__init__.py")
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def _import(file: Path):
    name = "explorer_scenarios." + "_".join(file.resolve().with_suffix("").parts[-3:])
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
