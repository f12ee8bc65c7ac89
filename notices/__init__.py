"""Notices: a short message left for a user, shown at the top of the next page they open.

The one way for the site to tell someone something when they are not the one acting
(their private run was put on the projector, a blocked term now matches their upload).
It imports no other app, so every app may use it: `notices.tell(user, text, url="")`.
"""


def tell(user, text, url=""):
    from notices.models import Notice

    return Notice.objects.create(user=user, text=text[:500], url=url[:300])
