from celery import shared_task

from .services import heartbeat_record


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat():
    """Periodic no-op that proves beat and a worker run (see zhubao/celery.py)."""
    heartbeat_record()
