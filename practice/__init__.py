# Load the Celery app with Django, so every process (web, worker, shell) binds @shared_task to it.
from workers.celery import app as celery_app

__all__ = ["celery_app"]
