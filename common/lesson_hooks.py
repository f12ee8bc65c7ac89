"""The lesson layer, as the new-run form sees it.

A lesson step opens the new-run form prepared: its pack, its settings, some of them locked
(?classroom=<id>&lesson_step=<id>). The form lives in runs, below lessons, so this module
names the question and `lessons` answers it at start-up (lessons/apps.py). Without it, a
form asked for a lesson step answers 404.

    step = lessons().prepared_step(user, classroom, step_id)   # None when step_id is empty
    step.policy            # a runs.policy.RunPolicy: the step's pack, preset and locks
    step.title, step.url   # for the form's note ("Step 2 of …"), and the way back
    step.started(run)      # link the new run to the step: its challenge is checked on it
"""

from django.http import Http404


class NoLessons:
    def prepared_step(self, user, classroom, step_id):
        if step_id:
            raise Http404("No such lesson step.")
        return None


_provider = NoLessons()


def provide(provider):
    global _provider
    _provider = provider


def lessons():
    return _provider
