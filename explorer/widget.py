"""The step-through widget for a notebook: "you are the scheduler".

A button per thread runs that thread's next step; "step back" undoes one; the view shows
each thread's next line, the shared variables and locks, the steps so far, and says when
the run reaches a finding. The model is :class:`explorer.stepping.Stepper`; this module
only draws it. It needs ``ipywidgets`` (``pip install 'explorer[notebook]'``), imported
when a widget is made, never before.

>>> from scenarios.counter import lost_update
>>> from explorer.stepping import Stepper
>>> "lost-update" in Stepper(lost_update, ["A", "B", "B", "A"])._repr_html_()
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["step_through"]


def step_through(scenario: Scenario, schedule: Sequence[str] = (), *, goal: str | None = None):
    """A widget that runs ``scenario`` one step at a time as the student chooses, from
    ``schedule`` (the steps already taken). With ``goal`` (a finding kind such as
    ``"lost-update"``), a "check" button says whether the schedule so far reaches it and
    shows a shortest schedule that does. The widget's ``stepper`` attribute is the model."""
    try:
        import ipywidgets as widgets
    except ImportError as error:
        raise ImportError("the step-through widget needs ipywidgets: pip install 'explorer[notebook]' "
                          "(the Stepper in explorer.stepping works without it)") from error
    from .notebook import stepper_html
    from .stepping import Stepper, check_schedule

    stepper = Stepper(scenario, schedule)
    view = widgets.HTML()
    verdict = widgets.HTML()
    buttons: dict = {}  # a thread started during the run gets its button when it appears
    row = widgets.HBox()
    back = widgets.Button(description="step back", icon="undo")
    reset = widgets.Button(description="start again")
    check = widgets.Button(description=f"check: {goal}?", button_style="info") if goal else None

    def run(name):
        def click(_):
            stepper.step(name)
            verdict.value = ""
            show()
        return click

    def show(_=None) -> None:
        for name in stepper.names:
            if name not in buttons:
                buttons[name] = widgets.Button(description=f"run {name}", tooltip=f"run {name}'s next step")
                buttons[name].on_click(run(name))
        enabled = set(stepper.enabled)
        for name, button in buttons.items():
            button.disabled = name not in enabled
        back.disabled = not stepper.schedule
        row.children = [*buttons.values(), back, reset] + ([check] if check is not None else [])
        view.value = stepper_html(stepper)

    def undo(move):
        def click(_):
            move()
            verdict.value = ""  # an answer about the old schedule would stay beside the new one
            show()
        return click

    back.on_click(undo(stepper.back))
    reset.on_click(undo(stepper.reset))
    if check is not None:
        def judge(_):
            from .report_html import _e

            answer = check_schedule(scenario, stepper.schedule, kind=goal)
            colour = "#17693a" if answer.reached else "#a63c06"
            verdict.value = f'<p style="color:{colour};font-weight:600">{_e(answer.message)}</p>'
        check.on_click(judge)
    show()
    box = widgets.VBox([row, verdict, view])
    box.stepper = stepper
    return box
