"""The Celery app: `celery -A livesite worker` and `celery -A livesite beat`.

Configuration comes from Django settings (the `CELERY_` names). With no
broker configured, tasks run eagerly in the caller's process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

app = Celery("livesite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="livesite.ping")
def ping(payload: str = "pong") -> str:
    """A round trip through broker, worker and result backend (readiness and tests)."""
    return payload
