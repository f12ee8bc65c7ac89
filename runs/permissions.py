"""Who may do what with a run. Views, the socket and the classrooms app all ask here.

Two questions: may this person *look* at the run (`can_view`: the run page, the op view,
the playground, the export) and may they *change* it (`can_change`: cancel, fork, share...).
A pack's showcase run (runs/showcase.py) may be looked at by anyone, logged in or not, and
changed by nobody.
"""

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from runs.models import Run


def can_view(user, run):
    """Anyone for a showcase run; else the owner, an instructor of a classroom the owner is
    in, a classmate if the run is shared with their classroom (the same rule as
    Run.objects.visible_to)."""
    if run.showcase:
        return True
    if not user.is_authenticated:
        return False
    if user.is_superuser or run.owner_id == user.pk:
        return True
    return Run.objects.visible_to(user).filter(pk=run.pk).exists()


def who_may_view(run_id, user_ids):
    """can_view for many viewers of one run at once, in two queries: (anyone, ids), where
    `anyone` is True for a showcase run (everybody may look, logged in or not) and `ids` are
    those of `user_ids` who may view it now. A run that is gone: nobody."""
    run = Run.objects.filter(pk=run_id).values("showcase", "owner_id", "classroom_id").first()
    if run is None:
        return False, set()
    if run["showcase"]:
        return True, set(user_ids)
    may = (
        Q(is_superuser=True)
        | Q(pk=run["owner_id"])
        | Q(classrooms_taught__students=run["owner_id"])  # teaches the owner
    )
    if run["classroom_id"]:  # shared with a class: its students and its instructor
        may |= Q(classrooms=run["classroom_id"]) | Q(classrooms_taught=run["classroom_id"])
    viewers = get_user_model().objects.filter(may, pk__in=list(user_ids))
    return False, set(viewers.values_list("pk", flat=True).distinct())


def can_change(user, run):
    """Cancel it, fork it, share it: the owner, or an instructor of a classroom the owner
    belongs to. Nobody changes a showcase run."""
    if run.showcase or not user.is_authenticated:
        return False
    if user.is_superuser or run.owner_id == user.pk:
        return True
    return run.owner.classrooms.filter(instructor=user).exists()


def can_cancel(user, run):
    return can_change(user, run)


def viewable_run(request, run_id):
    """The run `run_id` if the request's user may view it, else 404 (the same answer as for
    a run that does not exist)."""
    run = get_object_or_404(Run.objects.select_related("owner", "pack", "upload"), pk=run_id)
    if not can_view(request.user, run):
        raise Http404("no such run")
    return run


def login_required_unless_showcase(view):
    """@login_required for a view taking `run_id`, except that anyone, logged in or not,
    may open a showcase run's pages."""

    @wraps(view)
    def wrapped(request, run_id, *args, **kwargs):
        if not request.user.is_authenticated and not Run.objects.filter(
            pk=run_id, showcase=True
        ).exists():
            return redirect_to_login(request.get_full_path())
        return view(request, run_id, *args, **kwargs)

    return wrapped
