"""runs.signals.events_stored: sent after every flush and after the terminal event; a
receiver that fails never breaks training."""

from runs.models import Run
from runs.signals import events_stored
from runs.training import train_run


def test_every_flush_and_the_end_are_announced_and_a_failing_receiver_is_harmless(
    student, start_run
):
    heard = []

    def listen(sender, run, finished, **kwargs):
        heard.append((run.current_step, finished))
        raise RuntimeError("a broken receiver")

    events_stored.connect(listen, dispatch_uid="test-listen")
    try:
        run = start_run(student)
        assert train_run(run.pk, "test-worker")
    finally:
        events_stored.disconnect(dispatch_uid="test-listen")
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED
    assert heard[-1] == (run.num_steps, True)  # the terminal event, once
    assert [finished for _, finished in heard].count(True) == 1
    assert any(not finished for _, finished in heard)  # the flushes while it trained
