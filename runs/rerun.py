""""Run again with changes": the new-run form's link, prefilled with a run's settings.

The form takes its initial values from the query (runs.forms.NewRunForm.prefill), so a link
is all it needs: ?pack=<source>&<each config field>=<value>[&probe_text=…][&classroom=<id>].
"""

from urllib.parse import urlencode

from django.urls import reverse

from runs.config import CONFIG_FIELDS


def rerun_query(run, user=None):
    """The query that prefills the new-run form with `run`'s text and settings; the
    parent's classroom only when `user` is its owner (a run stays where its owner put it)."""
    query = {"pack": run.source_ref}
    query.update({name: run.config[name] for name in CONFIG_FIELDS if name in run.config})
    if run.config.get("probe_text"):
        query["probe_text"] = run.config["probe_text"]
    if run.classroom_id and user is not None and user.pk == run.owner_id:
        query["classroom"] = run.classroom_id
    return query


def rerun_url(run, user=None):
    return f"{reverse('runs:new')}?{urlencode(rerun_query(run, user))}"
