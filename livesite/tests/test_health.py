import json
import logging

from django.urls import reverse


def test_healthz_answers_while_the_process_serves(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client, db):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True


def test_readyz_names_a_down_redis_and_answers_503(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "redis" in body["failed"]
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_readyz_passes_with_the_real_redis(client, db, redis_url):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"]["ok"] is True
    assert response.json()["checks"]["channel_layer"]["ok"] is True


def test_metrics_count_requests_by_route(client, db):
    client.get(reverse("healthz"))
    body = client.get(reverse("metrics")).content.decode()
    assert 'livesite_http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert "livesite_http_request_duration_seconds_bucket" in body


def test_production_logs_are_one_json_object_a_line(settings):
    from pythonjsonlogger.json import JsonFormatter

    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    record = logging.LogRecord(
        "livesite.test", logging.WARNING, __file__, 1, "room %s went live", ("x",), None
    )
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "livesite.test"
    assert parsed["message"] == "room x went live"
