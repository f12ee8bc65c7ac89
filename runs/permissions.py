"""Who may do what with a run. Views, the socket and the classrooms app all ask here."""

from runs.models import Run


def can_view(user, run):
    """The owner, an instructor of a classroom the owner is in, a classmate if the run is
    shared with their classroom (the same rule as Run.objects.visible_to)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or run.owner_id == user.pk:
        return True
    return Run.objects.visible_to(user).filter(pk=run.pk).exists()


def can_cancel(user, run):
    """The owner, or an instructor of a classroom the owner belongs to."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or run.owner_id == user.pk:
        return True
    return run.owner.classrooms.filter(instructor=user).exists()
