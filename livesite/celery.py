"""The Celery app: `celery -A livesite worker` and `celery -A livesite beat`.

Configuration comes from Django settings (the `CELERY_` names). With no
broker configured, tasks run eagerly in the caller's process. On RabbitMQ the queues are
quorum queues with a dead-letter queue (infra.task_queues).
"""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")


class LivesiteCelery(Celery):
    def send_task(self, name, args=None, kwargs=None, countdown=None, eta=None, **options):
        quorum = self.conf.task_default_queue_type == "quorum"
        # Native delayed delivery (quorum queues) counts whole seconds and raises ValueError
        # for a countdown under one (kombu calculate_routing_key): wait the full second.
        if countdown is not None and 0 < countdown < 1 and quorum:
            countdown = 1
        if quorum and (countdown or eta) and not self.conf.task_always_eager:
            self._prepare_delayed_delivery(options.get("queue"))
        return super().send_task(name, args, kwargs, countdown=countdown, eta=eta, **options)

    def _prepare_delayed_delivery(self, queue) -> None:
        """Once per queue and process: the delayed-delivery exchanges exist and lead to it,
        even if no worker has started on this broker yet (infra.task_queues)."""
        from infra.task_queues import prepare_delayed_delivery

        name = getattr(queue, "name", queue) or self.conf.task_default_queue
        prepared = self.__dict__.setdefault("_delayed_delivery_ready", set())
        if name in prepared:
            return
        with self.connection_for_write() as connection:
            prepare_delayed_delivery(connection, self.amqp.queues[name])
        prepared.add(name)


app = LivesiteCelery("livesite", amqp="infra.task_queues:TaskAMQP")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="livesite.ping")
def ping(payload: str = "pong") -> str:
    """A round trip through broker, worker and result backend (readiness and tests)."""
    return payload


@worker_init.connect
def declare_dead_letter_queue(sender=None, **kwargs):
    """Workers declare the dead-letter queue before the first task could be dead-lettered."""
    from django.conf import settings

    from infra.task_queues import declare_dead_letter_queue as declare

    if settings.CELERY_QUORUM_QUEUES:
        with app.connection_for_write() as connection:
            declare(connection)
