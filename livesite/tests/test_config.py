"""Settings parsing, and start-up refusing a bad DATABASE_URL or REDIS_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from livesite.config import parse_database_url, parse_service_url, redact_url

ROOT = Path(__file__).resolve().parents[2]


def test_sqlite_url():
    config = parse_database_url("sqlite:////tmp/x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/x.sqlite3"


def test_mysql_url_gets_utf8mb4_strict_mode_and_read_committed():
    config = parse_database_url("mysql://live:s3cret@db.internal:3307/livesite")
    assert config["ENGINE"] == "infra.db.mysql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 3307, "livesite")
    assert config["USER"] == "live" and config["PASSWORD"] == "s3cret"
    assert config["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["isolation_level"] == "read committed"
    assert config["TEST"]["CHARSET"] == "utf8mb4"


def test_mariadb_is_an_alias_of_mysql():
    assert parse_database_url("mariadb://root@127.0.0.1/x")["ENGINE"] == "infra.db.mysql"


def test_mysql_connections_go_back_to_the_pool_after_every_request():
    # A connection kept by a request's thread outlives the thread under ASGI.
    assert parse_database_url("mysql://root@127.0.0.1/x")["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u@h/db",
        "oracle://u@h/db",
        "127.0.0.1:3306/db",
        "",
        "mysql://root@h:notaport/db",
        "mysql://root@h/",
    ],
)
def test_a_bad_database_url_names_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url(url)


def test_errors_never_show_the_password():
    with pytest.raises(ImproperlyConfigured) as error:
        parse_database_url("mysql://root:hunter2@h:bad/db")
    assert "hunter2" not in str(error.value)
    assert redact_url("redis://:hunter2@h:6379/0") == "redis://:***@h:6379/0"


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache:6380", "unix:///run/redis.sock"]
)
def test_good_redis_urls(url):
    assert parse_service_url("REDIS_URL", url, {"redis", "rediss", "unix"}) == url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "redis://127.0.0.1:port", "redis://", "localhost:6379"]
)
def test_bad_redis_urls_name_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        parse_service_url("REDIS_URL", url, {"redis", "rediss", "unix"})


def start_django(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "livesite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_stops_on_an_unknown_database_scheme():
    result = start_django(DATABASE_URL="postgres://u@h/db")
    assert result.returncode != 0
    assert "DATABASE_URL has an unsupported scheme 'postgres'" in result.stderr


def test_start_up_stops_on_a_malformed_redis_url():
    result = start_django(REDIS_URL="redis://127.0.0.1:notaport/0")
    assert result.returncode != 0
    assert "REDIS_URL is malformed" in result.stderr


def test_start_up_without_variables_uses_embedded_defaults():
    result = start_django()
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def deploy_check(**extra) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env = {
        **clean,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "a-very-long-production-secret-key-0123456789",
        "ALLOWED_HOSTS": "live.example.com",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check(GIFTS_DEMO_PAYMENTS="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_fails_on_free_coins():
    result = deploy_check()
    assert result.returncode != 0
    assert "gifts.E001" in result.stdout + result.stderr


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = start_django(DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("raw", ["fast", "nan", "inf", "0.01", "-1"])
def test_a_bad_part_length_names_the_variable(raw, monkeypatch):
    from livesite.config import env_float

    monkeypatch.setenv("TRANSCODER_PART_SECONDS", raw)
    with pytest.raises(ImproperlyConfigured, match="TRANSCODER_PART_SECONDS"):
        env_float("TRANSCODER_PART_SECONDS", 0.333, minimum=0.1)


def test_a_redis_broker_keeps_the_redis_timeouts_beside_its_visibility_timeout():
    """A second assignment of the broker's transport options once dropped the timeouts."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "o = settings.CELERY_BROKER_TRANSPORT_OPTIONS; "
        "print(o['socket_timeout'], o['visibility_timeout'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL"}}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "livesite.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        "REDIS_SOCKET_TIMEOUT": "7",
        "CELERY_VISIBILITY_TIMEOUT": "900",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "900"]


@pytest.mark.parametrize(
    "raw",
    ["sentinel-a", "sentinel-a:", "sentinel-a:port", ":26379", "sentinel-a:70000", "a:1,b"],
)
def test_bad_sentinel_lists_stop_start_up_naming_the_variable(raw):
    result = start_django(REDIS_SENTINELS=raw, REDIS_SENTINEL_MASTER="livesite")
    assert result.returncode != 0
    assert "REDIS_SENTINELS must be host:port pairs" in result.stderr


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"REDIS_SENTINELS": "a:26379"}, "REDIS_SENTINEL_MASTER must name the master"),
        ({"REDIS_SENTINELS": "a:26379", "REDIS_SENTINEL_MASTER": "x y"}, "must name the master"),
        ({"REDIS_SENTINEL_MASTER": "livesite"}, "REDIS_SENTINEL_MASTER needs REDIS_SENTINELS"),
        (
            {"REDIS_SENTINELS": "a:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_URL": "redis://h/0"},
            "set REDIS_URL or REDIS_SENTINELS, not both",
        ),
    ],
)
def test_half_a_sentinel_configuration_stops_start_up(env, error):
    result = start_django(**env)
    assert result.returncode != 0
    assert error in result.stderr


def test_sentinels_configure_every_redis_user():
    probe = (
        "from django.conf import settings as s;"
        "print(s.REDIS_URL); print(s.CELERY_BROKER_URL); print(s.CELERY_RESULT_BACKEND);"
        "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['master_name']);"
        "print(s.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS['master_name']);"
        "print(s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['master_name']);"
        "print(s.CACHES['default']['LOCATION']); print(s.SESSION_ENGINE)"
    )
    env = {
        "REDIS_SENTINELS": "s1:26379, s2:26380,[::1]:26381",
        "REDIS_SENTINEL_MASTER": "livesite",
        "REDIS_PASSWORD": "p@ss",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "CELERY"))}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "livesite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "redis+sentinel://s1:26379,s2:26380,[::1]:26381/livesite/0"
    auth = "sentinel://:p%40ss@"
    broker = f"{auth}s1:26379/0;{auth}s2:26380/0;{auth}[::1]:26381/0"
    assert lines[1] == lines[2] == broker
    assert lines[3:6] == ["livesite", "livesite", "livesite"]
    assert lines[6] == "['redis+sentinel://s1:26379,s2:26380,[::1]:26381/livesite/0']"
    assert lines[7] == "django.contrib.sessions.backends.cached_db"


@pytest.mark.parametrize(
    ("env", "error"),
    [
        (
            {"REDIS_CLUSTER_NODES": "a:7000"},
            "REDIS_CLUSTER_NODES needs REDIS_URL or REDIS_SENTINELS",
        ),
        (
            {"REDIS_CLUSTER_NODES": "a:7000,b", "REDIS_URL": "redis://h/0"},
            "REDIS_CLUSTER_NODES must be host:port pairs",
        ),
    ],
)
def test_a_half_or_malformed_cluster_configuration_stops_start_up(env, error):
    result = start_django(**env)
    assert result.returncode != 0
    assert error in result.stderr


def test_a_cluster_holds_the_data_and_the_channel_layer_stays_on_redis_url():
    probe = (
        "from django.conf import settings as s;"
        "print(s.REDIS_CLUSTER_URL); print(s.CACHES['default']['LOCATION']);"
        "print(s.GIFTS_LEADERBOARD_REDIS_URL);"
        "print(s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address']);"
        "print(s.CELERY_BROKER_URL)"
    )
    env = {
        "REDIS_CLUSTER_NODES": "c1:7000, c2:7001,[::1]:7002",
        "REDIS_URL": "redis://layer:6379/0",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "CELERY"))}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "livesite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    cluster = "redis+cluster://c1:7000,c2:7001,[::1]:7002"
    assert result.stdout.splitlines() == [
        cluster,
        f"['{cluster}']",
        cluster,
        "redis://layer:6379/0",
        "redis://layer:6379/0",
    ]


def test_the_webrtc_udp_port_range_is_two_ports_lower_first(monkeypatch):
    from livesite.config import env_port_range

    monkeypatch.setenv("WEBRTC_UDP_PORTS", " 40000-40999 ")
    assert env_port_range("WEBRTC_UDP_PORTS") == (40000, 40999)
    monkeypatch.setenv("WEBRTC_UDP_PORTS", "")
    assert env_port_range("WEBRTC_UDP_PORTS") is None
    for bad in ("40000", "40999-40000", "80-90", "40000-70000", "a-b", "-1-5"):
        monkeypatch.setenv("WEBRTC_UDP_PORTS", bad)
        with pytest.raises(ImproperlyConfigured, match="WEBRTC_UDP_PORTS"):
            env_port_range("WEBRTC_UDP_PORTS")


def probe_django(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODERATION_", "GIFTS_"))}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "livesite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_operator_sets_moderation_from_the_environment():
    result = probe_django(
        "from moderation import conf;"
        "print(conf.report_limit(), conf.default_link_mode(), conf.default_allowed_domains(),"
        " conf.default_flood_limits(), conf.scoring_queue(), conf.classifiers(),"
        " conf.moderators_bypass_filter(), conf.retract_score())",
        MODERATION_REPORT_LIMIT="2",
        MODERATION_DEFAULT_LINK_MODE="allow_list",
        MODERATION_DEFAULT_ALLOWED_DOMAINS="example.com, example.org",
        MODERATION_DEFAULT_FLOOD_LIMITS='{"max_emoji": 3, "action": "hold"}',
        MODERATION_SCORING_QUEUE="scoring",
        MODERATION_CLASSIFIERS="moderation.scoring.RuleClassifier,shop.Classifier",
        MODERATION_MODERATORS_BYPASS_FILTER="0",
        MODERATION_RETRACT_SCORE="0.9",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == (
        "2 allow_list ('example.com', 'example.org') {'max_emoji': 3, 'action': 'hold'} "
        "scoring ('moderation.scoring.RuleClassifier', 'shop.Classifier') False 0.9"
    )


def test_moderation_and_gifts_defaults_hold_without_variables():
    result = probe_django(
        "from moderation import conf as m; from gifts import conf as g;"
        "print(m.report_limit(), m.default_link_mode(), m.default_flood_limits(),"
        " m.scoring_queue(), m.classifiers(), m.held_review_seconds());"
        "print(g.quantities(), g.coin_packages()[0], g.leaderboard_key_prefix(),"
        " g.send_threads())"
    )
    assert result.returncode == 0, result.stderr
    moderation, gifts = result.stdout.splitlines()[:2]
    assert moderation == "10 allow_all None None ('moderation.scoring.RuleClassifier',) 300"
    assert gifts == "(1, 10, 99) (70, '0.99') livesite:gifts:lb 6"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("MODERATION_DEFAULT_FLOOD_LIMITS", "max_emoji=3"),
        ("MODERATION_DEFAULT_FLOOD_LIMITS", "[3]"),
        ("MODERATION_DEFAULT_LINK_MODE", "everything"),
        ("MODERATION_REPORT_LIMIT", "ten"),
        ("MODERATION_SCORING_ENABLED", "maybe"),
    ],
)
def test_a_bad_moderation_variable_stops_start_up_naming_it(name, raw):
    result = probe_django("print('started')", **{name: raw})
    assert result.returncode != 0
    assert name in result.stderr
