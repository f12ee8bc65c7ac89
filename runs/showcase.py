"""Showcase runs: one finished run per built-in pack, trained at its recommended config when
the packs are loaded, so a visitor sees the lab at work before signing up.

A showcase is an ordinary Run (same events, same pages) owned by the "showcase" account,
which cannot log in; `Run.showcase` marks it. Anyone may explore it, nobody may change it
(runs/permissions.py), and it never counts against a limit or holds a queue place
(`Run.objects.active()`). Training is deterministic (same text, config and seed give the
same run), so a showcase is trained once: again only when its pack's text, probe line or
recommended config changed, or when the last attempt did not complete.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from runs.models import Kind, Run
from runs.training import train_run

log = logging.getLogger(__name__)

OWNER_USERNAME = "showcase"
WORKER_NAME = "showcase-loader"


def owner():
    """The account that owns every showcase run; it has no usable password."""
    user, created = get_user_model().objects.get_or_create(
        username=OWNER_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def text_digest(pack):
    """What a showcase was trained from besides its config: the pack's text and probe line."""
    made_from = f"{pack.text}\n{pack.probe_line}\n{pack.probe_focus}"
    return hashlib.sha256(made_from.encode()).hexdigest()[:16]


def current(pack):
    """The pack's completed showcase trained on its present text and config, or None."""
    for run in Run.objects.filter(showcase=True, pack=pack, status=Run.Status.COMPLETED):
        queued = run.events.filter(kind=Kind.QUEUED).only("data").first()
        made_from = queued.data if queued else {}
        if made_from.get("config") == pack.recommended_config and made_from.get(
            "text_digest"
        ) == text_digest(pack):
            return run
    return None


def for_packs(packs):
    """{pack id: its current showcase run} for the home page's cards (one query)."""
    runs = Run.objects.filter(
        showcase=True, status=Run.Status.COMPLETED, pack__in=list(packs)
    ).order_by("pack_id", "-finished_at")
    found = {}
    for run in runs:
        found.setdefault(run.pack_id, run)
    return found


def start(pack):
    """A queued showcase run of `pack`, not dispatched: the caller trains it."""
    config = dict(pack.recommended_config)
    with transaction.atomic():
        run = Run.objects.create(
            owner=owner(),
            pack=pack,
            config=config,
            num_steps=config["num_steps"],
            showcase=True,
        )
        run.append_events([(Kind.QUEUED, 0, {"config": config, "text_digest": text_digest(pack)})])
    return run


def ensure(packs, say=print):
    """Train a showcase for each of `packs` that has no current one (older or unfinished
    showcases of it are deleted first). Returns the runs trained."""
    trained = []
    for pack in packs:
        if current(pack) is not None:
            continue
        Run.objects.filter(showcase=True, pack=pack).delete()
        run = start(pack)
        say(f"training the {pack.title} showcase (run {run.pk}, {run.num_steps} steps)...")
        train_run(run.pk, worker_name=WORKER_NAME)
        run.refresh_from_db()
        if run.status != Run.Status.COMPLETED:
            say(f"  the {pack.title} showcase did not complete: {run.error or run.status}")
            continue
        say(f"  done: final loss {run.final_loss:.3f}")
        log.info("showcase trained", extra={"run_id": run.pk, "pack": pack.slug})
        trained.append(run)
    return trained


def on_packs_loaded(sender, packs, say=print, **kwargs):
    """packs_app's `packs_loaded` signal: train what is missing (LAB_SHOWCASES turns it off)."""
    if settings.LAB_SHOWCASES:
        ensure([pack for pack in packs if pack.builtin and pack.enabled], say=say)
