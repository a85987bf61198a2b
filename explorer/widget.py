"""The step-through widget for a notebook: "you are the scheduler".

A button per thread runs that thread's next step; "step back" undoes one; the view shows
each thread's next line, the shared variables and locks, the steps so far, and says when
the run reaches a finding. The model is :class:`explorer.stepping.Stepper`; this module
only draws it. It needs ``ipywidgets`` (``pip install 'explorer[notebook]'``), imported
when a widget is made, never before.

>>> from scenarios.counter import lost_update
>>> from explorer.stepping import Stepper
>>> "lost-update" in stepper_html(Stepper(lost_update, ["A", "B", "B", "A"]))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scenario import Scenario
    from .stepping import Stepper

__all__ = ["step_through", "stepper_html"]


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

    back.on_click(lambda _: (stepper.back(), show()))
    reset.on_click(lambda _: (stepper.reset(), show()))
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


def stepper_html(stepper: Stepper) -> str:
    """The position as HTML: a table of threads (status, next step, its line), the shared
    state and locks, the steps so far, and each finding reached."""
    from .notebook import _wrap
    from .report_html import _badge, _e, _trace_table
    from .render import display_location

    rows = []
    for view in stepper.threads:
        where = display_location(view.location) or ""
        rows.append(f'<tr><td class="kind">{_e(view.name)}</td><td>{_e(view.status)}</td>'
                    f"<td><code>{_e(view.step or '')}</code></td><td><code>{_e(view.line or '')}</code></td>"
                    f'<td class="source">{_e(where.rsplit("/", 1)[-1])}</td></tr>')
    threads = ('<table class="trace"><thead><tr><th>thread</th><th>status</th><th>next step</th>'
               '<th>line</th><th>source</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
    state = ", ".join(f"{name} = {value!r}" for name, value in stepper.state.items()) or "(no variables)"
    held = ", ".join(f"{lock} held by {owner}" for lock, owner in stepper.holders.items())
    parts = [f"<p><strong>{_e(stepper.scenario.name)}</strong>: step {len(stepper.schedule)}; "
             f"shared state <code>{_e(state)}</code>" + (f"; {_e(held)}" if held else "") + "</p>", threads]
    if stepper.events:
        from .findings import Trace

        parts.append(_trace_table(Trace(stepper.schedule, stepper.events, stepper.names)))
    for finding in stepper.reached:
        parts.append(f'<p class="message">{_badge(finding.severity)} reached <span class="kind">'
                     f"{_e(finding.kind)}</span>: {_e(finding.message)}</p>")
    if stepper.finished:
        parts.append('<p class="muted">No thread can run: the run is over.</p>')
    return _wrap("\n".join(parts))
