"""``-k`` expressions as pytest reads them: words matched as case-insensitive substrings
of a scenario's names, combined with ``not``, ``and``, ``or`` and parentheses.

>>> matches = keyword_matcher("counter and not locked")
>>> matches(["scenarios/counter.py::lost_update", "lost update"])
True
>>> matches(["scenarios/counter.py::locked_counter", "locked counter"])
False

An expression without operators or parentheses is one substring, spaces and all, so
``-k "lost update"`` still picks the scenario named ``'lost update'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .errors import InvalidArgument

__all__ = ["keyword_matcher"]

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_OPERATORS = {"and", "or", "not"}


def keyword_matcher(expression: str) -> Callable[[Sequence[str]], bool]:
    """A function of a scenario's names (``file::attribute``, its ``name``) that says
    whether the expression selects it. A malformed expression raises ``InvalidArgument``."""
    words = _TOKEN.findall(expression)
    if not words:
        raise InvalidArgument("-k: the expression is empty; give a word such as -k counter")
    if not _OPERATORS & {w.lower() for w in words} and "(" not in words and ")" not in words:
        text = expression.strip().lower()
        return lambda names: any(text in name.lower() for name in names)
    tree, end = _or(words, 0, expression)
    if end != len(words):
        raise InvalidArgument(f"-k {expression!r}: unexpected {words[end]!r}; combine words with and, or, "
                              f"not and parentheses, as in -k 'counter and not locked'")
    return lambda names: _evaluate(tree, [name.lower() for name in names])


def _or(words, at, expression):
    return _chain("or", _and, words, at, expression)


def _and(words, at, expression):
    return _chain("and", _not, words, at, expression)


def _chain(operator, operand, words, at, expression):
    """``operand (operator operand)*``, grouped from the left."""
    left, at = operand(words, at, expression)
    while at < len(words) and words[at].lower() == operator:
        right, at = operand(words, at + 1, expression)
        left = (operator, left, right)
    return left, at


def _not(words, at, expression):
    if at < len(words) and words[at].lower() == "not":
        inner, at = _not(words, at + 1, expression)
        return ("not", inner), at
    if at < len(words) and words[at] == "(":
        inner, at = _or(words, at + 1, expression)
        if at >= len(words) or words[at] != ")":
            raise InvalidArgument(f"-k {expression!r}: a '(' is never closed")
        return inner, at + 1
    if at >= len(words) or words[at].lower() in _OPERATORS or words[at] == ")":
        found = repr(words[at]) if at < len(words) else "the end"
        raise InvalidArgument(f"-k {expression!r}: expected a word, found {found}")
    return ("word", words[at].lower()), at + 1


def _evaluate(tree, names: list[str]) -> bool:
    if tree[0] == "word":
        return any(tree[1] in name for name in names)
    if tree[0] == "not":
        return not _evaluate(tree[1], names)
    if tree[0] == "and":
        return _evaluate(tree[1], names) and _evaluate(tree[2], names)
    return _evaluate(tree[1], names) or _evaluate(tree[2], names)
