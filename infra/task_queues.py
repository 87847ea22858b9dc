"""Celery's queues on RabbitMQ: replicated quorum queues, with a dead-letter queue.

With an `amqp://` broker every task queue is declared as a quorum queue (replicated
over the RabbitMQ cluster's nodes, so a node lost loses no task) bound to a topic
exchange of its own name. Topic, not Celery's default direct exchange, because
Celery's native delayed delivery (how a `countdown`, as moderation scoring uses, works
on quorum queues, which have no global prefetch) forwards only to topic exchanges.

Poison messages: tasks are acknowledged late, so a task that kills its worker every
time would be redelivered forever. A quorum queue counts deliveries; after
CELERY_DELIVERY_LIMIT redeliveries, or when a task is rejected without requeue, the
message moves to the `livesite.dead-letter` queue, which no worker consumes: an
operator inspects it (docs/operations.md).

Delayed tasks (a `countdown`, as moderation scoring and gift statistics use) go through
the native delayed-delivery exchanges, which Celery declares only when a worker starts.
A web process that sends one to a broker no worker has set up yet (a fresh RabbitMQ, or
web processes started before the workers) would have it refused, and the task lost:
`prepare_delayed_delivery` declares them, and binds the target queue, from the sending
process too, once per queue.

Queues a process names that are not in `task_queues` (`celery worker -Q name`,
`apply_async(queue=name)`) are declared with the same arguments: RabbitMQ refuses a
second declaration of a queue with different arguments, so a worker and a web process
must agree. That is what `TaskQueues.new_missing` does; Celery's own
`task_create_missing_queue_type` sets only the queue type.
"""

from celery.app.amqp import AMQP, Queues
from kombu import Connection, Exchange, Queue
from kombu.transport.native_delayed_delivery import (
    bind_queue_to_native_delayed_delivery_exchange,
    declare_native_delayed_delivery_exchanges_and_queues,
)

DEAD_LETTER_EXCHANGE = "livesite.dead-letter"
DEAD_LETTER_QUEUE = "livesite.dead-letter"
DEFAULT_DELIVERY_LIMIT = 5


def quorum_arguments(delivery_limit: int) -> dict:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": DEAD_LETTER_QUEUE,
    }


def task_queue(name: str, delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> Queue:
    """A quorum queue of tasks, bound to a topic exchange of the same name."""
    return Queue(
        name,
        Exchange(name, type="topic"),
        routing_key=name,
        queue_arguments=quorum_arguments(delivery_limit),
    )


def dead_letter_queue() -> Queue:
    return Queue(
        DEAD_LETTER_QUEUE,
        Exchange(DEAD_LETTER_EXCHANGE, type="direct"),
        routing_key=DEAD_LETTER_QUEUE,
        queue_arguments={"x-queue-type": "quorum"},
    )


def declare_dead_letter_queue(connection: Connection) -> None:
    """Declare the dead-letter exchange and queue (idempotent; workers do it at start)."""
    with connection.channel() as channel:
        dead_letter_queue()(channel).declare()


class TaskQueues(Queues):
    """Celery's queue table; a queue named on the fly gets the quorum arguments too, whether
    named by `-Q`, `apply_async(queue=...)` or a remote `add_consumer` (which would
    otherwise declare a classic queue on a direct exchange, and fail on the quorum one)."""

    def new_missing(self, name):
        limit = quorum_delivery_limit()
        return super().new_missing(name) if limit is None else task_queue(name, limit)

    def add_compat(self, name, **options):
        limit = quorum_delivery_limit()
        if limit is None:
            return super().add_compat(name, **options)
        return self._add(task_queue(name, limit))


def quorum_delivery_limit() -> int | None:
    """The delivery limit when the broker uses quorum queues, else None."""
    from django.conf import settings

    return settings.CELERY_DELIVERY_LIMIT if settings.CELERY_QUORUM_QUEUES else None


class TaskAMQP(AMQP):
    queues_cls = TaskQueues


def prepare_delayed_delivery(connection: Connection, queue: Queue) -> None:
    """Declare the delayed-delivery exchanges and `queue`, bound to them (idempotent)."""
    declare_native_delayed_delivery_exchanges_and_queues(connection, "quorum")
    with connection.channel() as channel:
        queue.bind(channel).declare()
    bind_queue_to_native_delayed_delivery_exchange(connection, queue)


def queue_depths(connection: Connection, names: list[str]) -> dict[str, int]:
    """Messages ready in each named queue (a passive declare: nothing is created)."""
    depths = {}
    with connection.channel() as channel:
        for name in names:
            _name, ready, _consumers = channel.queue_declare(name, passive=True)
            depths[name] = ready
    return depths


class QueueDepthCollector:
    """`livesite_celery_queue_messages{queue}` on /metrics: the default task queue and the
    dead-letter queue, read from RabbitMQ at scrape time (nothing when it does not answer)."""

    def __init__(self, app):
        self.app = app  # the site's Celery app, whose broker connection this reads

    def describe(self):
        return []  # else registering would call collect(), reaching the broker at import

    def collect(self):
        from django.conf import settings
        from prometheus_client.core import GaugeMetricFamily

        if not settings.CELERY_QUORUM_QUEUES:
            return
        names = [settings.CELERY_TASK_DEFAULT_QUEUE, DEAD_LETTER_QUEUE]
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                depths = queue_depths(connection, names)
        except Exception:
            return
        family = GaugeMetricFamily(
            "livesite_celery_queue_messages", "Messages ready in a task queue", labels=["queue"]
        )
        for name, depth in depths.items():
            family.add_metric([name], depth)
        yield family
