"""Tracked classes: every read and write of an instance's attribute is a step.

For the length of a run, each class in ``track=`` gets a ``__getattribute__``,
``__setattr__`` and ``__delattr__`` that hand the scheduler a ``read`` or ``write`` of
the variable ``FakeDatabase#1.value`` before doing the real access. An instance is
named when first touched, by the thread touching it: ``FakeDatabase#1`` is the first
that ``main`` touched (in its ``__init__``, as a rule), ``FakeDatabase#1@T0`` the first
that thread ``T0`` did; an instance that existed before the exploration is refused,
since every run would inherit what the last one left in it. Methods, properties and other class-level descriptors are looked up
as usual (a property's getter reads the attributes it reads, each a step); instance
attributes, ``__slots__`` and class variables read through an instance are shared
state. The engine's variable and the real attribute change together, at the step, so
the object is always what the trace says. Everything is put back when the run ends.
"""

from __future__ import annotations

import sys
from types import MemberDescriptorType

from greenlet import getcurrent

from ..errors import ScenarioError
from ..objects.base import HIDDEN
from ..steps import Write, read
from .runtime import ThreadGreenlet, step

__all__ = ["hook", "roots"]

_DATA, _CLASS_LEVEL = 0, 1


def _classify(cls: type, attr: str) -> int:
    """Whether ``instance.attr`` is shared data (an instance attribute, a slot, a class
    variable) or something the class provides (a method, a property)."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(attr, _MISSING)
        if found is _MISSING:
            continue
        if isinstance(found, MemberDescriptorType):
            return _DATA  # a __slots__ entry
        return _CLASS_LEVEL if hasattr(type(found), "__get__") else _DATA
    return _DATA


_MISSING = object()


def _class_value(cls: type, attr: str):
    """The class variable ``attr`` an instance shows when it has none of its own."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(attr, _MISSING)
        if found is not _MISSING:
            return _MISSING if isinstance(found, MemberDescriptorType) else found
    return _MISSING


def roots(classes) -> list[type]:
    """The classes to hook: a subclass of another tracked class is hooked through it."""
    return [cls for cls in classes if not any(other is not cls and issubclass(cls, other) for other in classes)]


def hook(cls: type, patches) -> None:
    """Hook ``cls`` (``patches`` undoes it). The hooks serve whichever program's thread
    runs: its runtime says whether it tracks the class and names the instances."""
    get_original = cls.__getattribute__
    set_original = cls.__setattr__
    del_original = cls.__delattr__
    kinds: dict = {}  # (class, attribute) -> _DATA or _CLASS_LEVEL

    def kind_of(klass: type, attr: str) -> int:
        try:
            return kinds[klass, attr]
        except KeyError:
            found = kinds[klass, attr] = _classify(klass, attr)
            return found

    def variable(obj, attr: str, here: ThreadGreenlet) -> str:
        runtime = here.runtime
        program = runtime.program
        name = runtime.instance_names.get(id(obj))
        if name is None:
            name = runtime.name_instance(obj, here)
        if name is None:
            caller = sys._getframe(2)
            raise ScenarioError(
                f"program {program.scenario.name!r}: thread {here.label} used {attr!r} of a "
                f"{type(obj).__name__} (at {caller.f_code.co_filename}:{caller.f_lineno}) that was "
                f"made before the exploration (at import, or outside the program); "
                f"every run would start from what the last one left in it. Make it inside the program "
                f"(in main, or with setup=)")
        var = f"{name}.{attr}"
        if var not in program.initial:
            runtime.new_variable(var)
        values = runtime.run.values
        if values[var] is HIDDEN:  # no value of the instance's own: a class variable shows through
            found = _class_value(type(obj), attr)
            if found is not _MISSING:
                values[var] = found
                runtime.class_valued[var] = (obj, attr)
        return var

    def __getattribute__(self, attr):
        here = getcurrent()
        if here.__class__ is not ThreadGreenlet or attr[:2] == "__" or here.dying \
                or not isinstance(self, here.runtime.tracked):
            return get_original(self, attr)
        if kind_of(self.__class__, attr) is _CLASS_LEVEL:
            return get_original(self, attr)
        step(read(variable(self, attr, here)), here)
        return get_original(self, attr)

    def __setattr__(self, attr, value):
        here = getcurrent()
        if here.__class__ is not ThreadGreenlet or attr[:2] == "__" or here.dying \
                or not isinstance(self, here.runtime.tracked):
            return set_original(self, attr, value)
        if kind_of(self.__class__, attr) is _CLASS_LEVEL:  # a property's setter: its own accesses are steps
            return set_original(self, attr, value)
        step(Write(variable(self, attr, here), here.runtime.token(value)), here)
        return set_original(self, attr, value)

    def __delattr__(self, attr):
        here = getcurrent()
        if here.__class__ is not ThreadGreenlet or attr[:2] == "__" or here.dying \
                or not isinstance(self, here.runtime.tracked):
            return del_original(self, attr)
        if kind_of(self.__class__, attr) is _CLASS_LEVEL:
            return del_original(self, attr)
        step(Write(variable(self, attr, here), HIDDEN), here)
        return del_original(self, attr)

    patches.set(cls, "__getattribute__", __getattribute__)
    patches.set(cls, "__setattr__", __setattr__)
    patches.set(cls, "__delattr__", __delattr__)

