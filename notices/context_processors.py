from functools import cache

from notices.models import Notice


def notices(request):
    """`notices`: what is waiting for the viewer. Read (and marked read) only when a
    template shows them: base.html, on the next full page; a fragment never takes them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notices": ()}

    @cache
    def unread():
        return Notice.objects.take_unread(user)

    return {"notices": unread}
