"""The classroom layer, as the layers below it see it.

Runs and uploads need a few answers only classrooms can give ("which classrooms may this user
share into?", "what are this classroom's rules for a new run?"), but imports point down only.
So this module names the questions, and `classrooms` answers them: it registers a provider at
start-up (classrooms/apps.py). Until then, and in a site without classrooms, the answers are
"none" and the site's own rules.

    from common.classroom_hooks import classrooms
    classrooms().of_user(user)        # a queryset-like of classrooms
"""


class NoClassrooms:
    """The answers when no classroom layer is installed."""

    def find(self, pk):
        """The classroom with this primary key, or None."""
        return None

    def of_user(self, user):
        """Classrooms `user` belongs to or teaches (where they may share an upload)."""
        return []

    def of_member(self, user):
        """Classrooms `user` belongs to as a student (where a lesson's rules apply)."""
        return []

    def taught_by(self, user):
        """Classrooms `user` teaches."""
        return []

    def run_policy(self, user, classroom):
        """The rules for a run `user` starts in `classroom` (a runs.policy.RunPolicy), or None
        for the site's own rules. Raises PermissionDenied when `user` is not in it."""
        return None


_provider = NoClassrooms()


def provide(provider):
    """Install the classroom layer's answers (an object with NoClassrooms' methods)."""
    global _provider
    _provider = provider


def classrooms():
    return _provider
