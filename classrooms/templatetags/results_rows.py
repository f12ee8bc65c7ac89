"""`{% result_row r %}`: one row of the results table (panel.html#result-row), rendered once
for each distinct content and kept in this process.

The panel is rendered again on every push and every load, and most of a class's rows have
not changed since the last time (finished runs, students waiting): rendering 90 rows of a
dozen cells each was most of a panel's CPU. A row's key is everything the row shows, so a
kept row is always the row that would be rendered now.
"""

from django import template
from django.template.loader import render_to_string

from common.kept import Kept

register = template.Library()
ROWS = Kept(size=5000)


def row_key(classroom, r):
    """Everything panel.html#result-row shows of ResultRow `r` (classrooms/results.py)."""
    run = r.run
    shown_of_run = None
    if run is not None:
        shown_of_run = (
            run.pk, run.status, run.current_step, run.num_steps, run.source_title,
            getattr(run, "is_spotlit", False),
        )
    return (
        classroom.pk, r.student.pk, r.student.username, r.colour, shown_of_run,
        r.smoothed_loss, r.validation_loss, r.template_share, tuple(r.flags), r.private,
        r.queue_place, r.wait_seconds, r.first_of_student,
    )


@register.simple_tag(takes_context=True)
def result_row(context, r):
    classroom = context["classroom"]
    key = row_key(classroom, r)
    html = ROWS.get(key)
    if html is None:
        html = render_to_string(
            "classrooms/panel.html#result-row", {"r": r, "classroom": classroom}
        )
        ROWS[key] = html
    return html
