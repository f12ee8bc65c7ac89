"""What runs announces to the apps above it (which connect in their AppConfig.ready).

events_stored: sent with run=Run, finished=bool after a trainer stored a batch of events
(finished=False) and after a run's terminal event (finished=True). The lessons app checks
its challenges on it. Sent robustly: a receiver's error is logged, never training's."""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

events_stored = Signal()


def announce_stored(run, *, finished=False):
    for receiver, result in events_stored.send_robust(sender=run.__class__, run=run,
                                                       finished=finished):
        if isinstance(result, Exception):
            log.warning("events_stored receiver failed: %r", result,
                        extra={"run_id": run.pk, "receiver": repr(receiver)})
