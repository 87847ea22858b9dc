"""Health endpoints for load balancers and orchestrators.

`/healthz` answers anyone as long as the process serves requests. `/readyz` checks
each backing service this process is configured to use and answers 503 with
the failed check named, so an operator sees at once which service is down;
it answers only the operator's networks or token (livesite.operator_access).
"""

import logging
import time

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from infra import read_replica
from livesite.celery import app as celery_app
from livesite.operator_access import operator_only
from realtime.redis_client import new_client

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    client = new_client(
        settings.REDIS_URL,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


class SentinelQuorumLost(Exception):
    """Fewer than a majority of the sentinels answer and agree they can fail over."""


def check_sentinel_quorum() -> None:
    """A majority of REDIS_SENTINELS must answer CKQUORUM with OK: otherwise a failed
    master would not be replaced, and Redis is one crash away from an outage."""
    agreeing = 0
    for host, port in settings.REDIS_SENTINELS:
        client = redis.Redis(
            host,
            port,
            password=settings.REDIS_SENTINEL_PASSWORD or None,
            socket_timeout=CHECK_TIMEOUT_SECONDS / 2,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS / 2,
        )
        try:
            # "OK 3 usable Sentinels...", or an error (NOQUORUM, unknown master).
            client.execute_command("SENTINEL", "CKQUORUM", settings.REDIS_SENTINEL_MASTER)
            agreeing += 1
        except redis.RedisError as error:
            log.warning("sentinel %s:%s: %s", host, port, error)
        finally:
            client.close()
    if agreeing * 2 <= len(settings.REDIS_SENTINELS):
        raise SentinelQuorumLost(f"{agreeing} of {len(settings.REDIS_SENTINELS)} sentinels")


class RedisClusterTrouble(Exception):
    """The Redis Cluster cannot serve every slot, or no node of it answers."""


def check_redis_cluster() -> None:
    """The first node of REDIS_CLUSTER_NODES that answers must say cluster_state:ok: a
    cluster that lost a master with no replica to promote (or a majority of masters)
    says fail and refuses every command, and the answer names what it counts."""
    errors = []
    for host, port in settings.REDIS_CLUSTER_NODES:
        client = redis.Redis(
            host,
            port,
            password=settings.REDIS_PASSWORD or None,
            socket_timeout=CHECK_TIMEOUT_SECONDS / 2,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS / 2,
        )
        try:
            info = client.cluster("info")
        except redis.RedisError as error:
            errors.append(f"{host}:{port} {type(error).__name__}")
            continue
        finally:
            client.close()
        if info.get("cluster_state") != "ok":
            raise RedisClusterTrouble(
                f"cluster_state:{info.get('cluster_state')} (node {host}:{port}: "
                f"{info.get('cluster_slots_ok')} of 16384 slots ok, "
                f"{info.get('cluster_slots_fail')} failed, "
                f"{info.get('cluster_slots_pfail')} possibly failing; "
                f"{info.get('cluster_size')} masters serving slots)"
            )
        return
    raise RedisClusterTrouble("no cluster node answers: " + ", ".join(errors))


def check_channel_layer() -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "readiness.check"})
    message = async_to_sync(layer.receive)(channel)
    if message.get("type") != "readiness.check":
        raise RuntimeError("channel layer returned a different message")


def check_celery_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def check_database_replica() -> None:
    state = read_replica.check_replica(force=True)
    if state.trouble is not None:
        raise state.trouble


# Checks whose failure degrades the service without stopping it: reads fall back to the
# primary, so a load balancer must not take the process out of rotation for them.
DEGRADING_CHECKS = {"database_replica"}


def configured_checks() -> dict:
    checks = {"database": check_database}
    if read_replica.replica_configured():
        checks["database_replica"] = check_database_replica
    if settings.REDIS_URL:
        checks["redis"] = check_redis
        if settings.REDIS_SENTINELS:
            checks["redis_sentinel_quorum"] = check_sentinel_quorum
        checks["channel_layer"] = check_channel_layer
    if settings.REDIS_CLUSTER_NODES:
        checks["redis_cluster"] = check_redis_cluster
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["celery_broker"] = check_celery_broker
    return checks


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
@operator_only
def readyz(request):
    results, failed, degraded = {}, [], []
    for name, check in configured_checks().items():
        started = time.monotonic()
        try:
            check()
        except Exception as error:
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = {"ok": False, "error": type(error).__name__}
            if isinstance(error, (read_replica.ReplicaTrouble, RedisClusterTrouble)):
                results[name]["detail"] = str(error)
            (degraded if name in DEGRADING_CHECKS else failed).append(name)
        else:
            results[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    status = 503 if failed else 200
    body = {
        "status": "unavailable" if failed else "degraded" if degraded else "ok",
        "failed": failed,
        "degraded": degraded,
        "checks": results,
    }
    return JsonResponse(body, status=status)
