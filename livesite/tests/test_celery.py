from django.conf import settings

from conftest import need_service
from livesite.celery import app, ping
from tests.support.servers import celery_worker


def test_a_task_makes_the_round_trip_through_a_real_worker_and_broker():
    need_service(
        "a Celery broker (REDIS_URL or CELERY_BROKER_URL)", bool(settings.CELERY_BROKER_URL)
    )
    assert not app.conf.task_always_eager
    with celery_worker() as queue:
        result = ping.apply_async(args=["hello from the test"], queue=queue)
        assert result.get(timeout=30) == "hello from the test"


def test_with_no_broker_tasks_run_eagerly(settings):
    if settings.CELERY_BROKER_URL:
        assert not settings.CELERY_TASK_ALWAYS_EAGER
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER
        assert ping.delay("eager").get() == "eager"
