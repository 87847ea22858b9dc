"""Celery on RabbitMQ: quorum queues, the dead-letter queue, a real worker on a vhost of its own.

The RabbitMQ tests create a throwaway vhost (rabbitmqctl) on the machine's RabbitMQ and
delete it afterwards, so they never touch another process's queues. The worker killed
mid-batch on RabbitMQ is gifts/tests/test_worker.py, run by .ci/run with
CELERY_BROKER_URL on such a vhost.
"""

import shutil
import socket
import subprocess
import time
import uuid

import pytest
from celery import Celery
from django.conf import settings
from kombu import Connection

from conftest import need_service
from infra.task_queues import DEAD_LETTER_QUEUE, task_queue
from livesite.celery import LivesiteCelery
from tests.support.servers import celery_worker


def test_task_queues_are_quorum_queues_that_dead_letter():
    arguments = task_queue("scoring", delivery_limit=3).queue_arguments
    assert arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 3,
        "x-dead-letter-exchange": "livesite.dead-letter",
        "x-dead-letter-routing-key": DEAD_LETTER_QUEUE,
    }
    assert task_queue("scoring").exchange.type == "topic"  # native delayed delivery


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def rabbitmq_listening() -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", 5672)) == 0


@pytest.fixture
def rabbitmq_vhost(settings):
    """A RabbitMQ vhost of the test's own; the settings say quorum queues, as on amqp://."""
    need_service("RabbitMQ (127.0.0.1:5672 and rabbitmqctl)",
                 bool(shutil.which("rabbitmqctl")) and rabbitmq_listening())  # fmt: skip
    need_service("a result backend (REDIS_URL)", bool(settings.REDIS_URL))
    vhost = f"livesite_test_{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        settings.CELERY_QUORUM_QUEUES = True
        yield vhost, f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


def rabbit_app(url: str, queue: str) -> Celery:
    """A Celery client configured as the web processes are with CELERY_BROKER_URL=amqp://."""
    app = LivesiteCelery(
        "livesite-rabbitmq-test", amqp="infra.task_queues:TaskAMQP", set_as_current=False
    )
    app.conf.update(
        broker_url=url,
        result_backend=settings.CELERY_RESULT_BACKEND,
        task_queues=[task_queue(queue)],
        task_default_queue=queue,
        task_default_exchange_type="topic",
        task_default_queue_type="quorum",
    )
    return app


def queue_types(vhost: str) -> dict[str, str]:
    lines = rabbitmqctl("list_queues", "-q", "-p", vhost, "name", "type").splitlines()
    return dict(line.split("\t")[:2] for line in lines[1:] if "\t" in line)


@pytest.mark.django_db(transaction=True)
def test_a_task_makes_the_round_trip_through_a_quorum_queue(rabbitmq_vhost):
    vhost, url = rabbitmq_vhost
    with celery_worker({"CELERY_BROKER_URL": url}) as queue:
        app = rabbit_app(url, queue)
        result = app.send_task("livesite.ping", args=["over RabbitMQ"], queue=queue)
        assert result.get(timeout=30) == "over RabbitMQ"
        types = queue_types(vhost)
    assert types[queue] == "quorum"
    assert types[DEAD_LETTER_QUEUE] == "quorum"


@pytest.mark.django_db(transaction=True)
def test_a_poison_message_goes_to_the_dead_letter_queue(rabbitmq_vhost):
    """A task no worker knows (say, queued by a newer release) is rejected, not retried forever."""
    _vhost, url = rabbitmq_vhost
    with celery_worker({"CELERY_BROKER_URL": url}) as queue:
        app = rabbit_app(url, queue)
        app.send_task("livesite.no_such_task", args=[1], queue=queue)
        app.send_task("livesite.ping", args=["after the poison"], queue=queue).get(timeout=30)
    with Connection(url) as connection:
        channel = connection.default_channel
        deadline = time.monotonic() + 10
        while (message := channel.basic_get(DEAD_LETTER_QUEUE)) is None:
            assert time.monotonic() < deadline, "nothing in the dead-letter queue"
            time.sleep(0.2)
    assert message.headers["task"] == "livesite.no_such_task"


@pytest.mark.django_db(transaction=True)
def test_a_delayed_task_sent_before_any_worker_started_is_run_when_one_starts(rabbitmq_vhost):
    """Web processes queue scoring and statistics with a countdown; on a broker no worker
    has set up yet, the delayed-delivery exchanges did not exist and the task was refused."""
    _vhost, url = rabbitmq_vhost
    queue = f"test-{uuid.uuid4().hex[:10]}"
    app = rabbit_app(url, queue)
    result = app.send_task("livesite.ping", args=["sent early"], queue=queue, countdown=1)
    with celery_worker({"CELERY_BROKER_URL": url}, queue=queue):
        assert result.get(timeout=30) == "sent early"


def test_a_countdown_under_a_second_waits_a_second_on_quorum_queues(monkeypatch):
    """Native delayed delivery counts whole seconds; kombu refuses 0 < countdown < 1."""
    from livesite.celery import app

    sent = {}
    monkeypatch.setattr(Celery, "send_task", lambda self, name, *a, **kw: sent.update(kw))
    monkeypatch.setattr(LivesiteCelery, "_prepare_delayed_delivery", lambda self, queue: None)
    monkeypatch.setitem(app.conf, "task_default_queue_type", "quorum")
    app.send_task("moderation.score_messages", ([1],), countdown=0.25)
    assert sent["countdown"] == 1


@pytest.mark.django_db(transaction=True)
def test_metrics_show_the_depth_of_the_task_and_dead_letter_queues(
    rabbitmq_vhost, client, settings
):
    from livesite.celery import app as site_app

    _vhost, url = rabbitmq_vhost
    queue = f"test-{uuid.uuid4().hex[:10]}"
    app = rabbit_app(url, queue)
    for n in range(3):  # no worker consumes them
        app.send_task("livesite.ping", args=[n], queue=queue)
    with Connection(url) as connection:
        from infra.task_queues import declare_dead_letter_queue

        declare_dead_letter_queue(connection)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    original = site_app.connection_for_write
    site_app.connection_for_write = lambda: Connection(url)
    try:
        body = client.get("/metrics").content.decode()
    finally:
        site_app.connection_for_write = original
    assert f'livesite_celery_queue_messages{{queue="{queue}"}} 3.0' in body
    assert 'livesite_celery_queue_messages{queue="livesite.dead-letter"} 0.0' in body
