from celery import shared_task

from packs_app import retention


@shared_task(name="packs_app.tasks.purge_expired")
def purge_expired():
    """Periodic (see CELERY_BEAT_SCHEDULE): remove runs and uploads past the age limit."""
    return retention.purge_expired()
