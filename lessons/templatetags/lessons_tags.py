"""The lesson pieces other apps' pages show, rendered with the page (no empty slot loaded
after it): `{% load lessons_tags %}` then `{% lessons_panel classroom %}` on the
instructor's panel, `{% classroom_lessons classroom %}` on a student's classroom page,
`{% lesson_banner run %}` on a run's page. Templates name them, so the classrooms and runs
apps import nothing from lessons; each renders the same template (and partial) as its
view and its socket's pushes."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def lessons_panel(context, classroom):
    from lessons.views import panel_context

    request = context.get("request")
    if request is None:
        return ""
    return render_to_string("lessons/panel_section.html",
                            panel_context(classroom, request.user), request=request)


@register.simple_tag(takes_context=True)
def classroom_lessons(context, classroom):
    from lessons.views import classroom_lessons_context

    request = context.get("request")
    if request is None:
        return ""
    return render_to_string("lessons/classroom_lessons.html",
                            classroom_lessons_context(classroom, request.user), request=request)


@register.simple_tag(takes_context=True)
def lesson_banner(context, run):
    """The run's lesson step and challenge state; nothing for a run no lesson started."""
    from lessons.views import banner_context

    banner = banner_context(run)
    if banner["step_run"] is None:
        return ""
    return render_to_string("lessons/run_banner.html", banner, request=context.get("request"))
