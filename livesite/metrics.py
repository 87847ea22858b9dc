"""`/metrics`: everything the process counts, in Prometheus' text format, for the operator.

Each app and library module registers its own counters with prometheus_client's
registry (requests: infra/request_metrics.py); the site adds the Celery queue depths.
"""

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from infra.task_queues import QueueDepthCollector
from livesite.celery import app as celery_app
from livesite.operator_access import operator_only

REGISTRY.register(QueueDepthCollector(celery_app))


@operator_only
def metrics_view(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
