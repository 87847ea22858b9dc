"""Reading Livesite's configuration from the environment.

Every setting that varies between a laptop and production comes from an
environment variable, parsed and validated here once. A bad value stops
start-up with an `ImproperlyConfigured` error that names the variable, so an
operator never has to guess which of thirty variables is wrong. No other
module reads `os.environ`.
"""

import ipaddress
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
DATABASE_SCHEMES = {"sqlite", "mysql", "mariadb"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}
BROKER_SCHEMES = REDIS_SCHEMES | {"amqp", "amqps", "pyamqp", "memory", "sentinel"}
# REDIS_URL when Redis is reached through Sentinel (built by settings from REDIS_SENTINELS
# and REDIS_SENTINEL_MASTER): redis+sentinel://host:port,host:port/<master>/<db>.
SENTINEL_SCHEME = "redis+sentinel"
# The Redis Cluster that holds the site's data (built by settings from REDIS_CLUSTER_NODES):
# redis+cluster://host:port,host:port (the nodes to start from; the cluster names the rest).
CLUSTER_SCHEME = "redis+cluster"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {raw!r})")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {raw!r})") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {value})")
    return value


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number (got {raw!r})") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number (got {raw!r})")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {value})")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_port_range(name: str) -> tuple[int, int] | None:
    """"40000-40999" -> (40000, 40999), both ports included; unset or empty -> None."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    low, dash, high = raw.partition("-")
    if not dash or not low.strip().isdigit() or not high.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must look like 40000-40999 (got {raw!r})")
    low_port, high_port = int(low), int(high)
    if not 1024 <= low_port <= high_port <= 65535:
        raise ImproperlyConfigured(
            f"{name} must be two ports from 1024 to 65535, the lower first (got {raw!r})"
        )
    return low_port, high_port


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default).strip()
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name} must be one of {allowed} (got {value!r})")
    return value


def env_json_object(name: str, default: dict | None = None) -> dict | None:
    """A JSON object (`{"max_emoji": 10}`); unset or empty gives the default."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a JSON object (got {raw!r})") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object (got {raw!r})")
    return value


def env_cidrs(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of networks (10.0.0.0/8) or single addresses."""
    items = env_list(name, default)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be networks like 10.0.0.0/8, comma-separated (got {item!r})"
            ) from None
    return items


def env_sentinels(name: str) -> list[tuple[str, int]]:
    """REDIS_SENTINELS or REDIS_CLUSTER_NODES: host:port pairs, comma-separated
    ([::1]:26379 for IPv6)."""
    sentinels = []
    for item in env_list(name):
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"{name} must be host:port pairs, comma-separated (got {item!r})"
            )
        sentinels.append((host, int(port)))
    return sentinels


def sentinel_url(sentinels: list[tuple[str, int]], master: str, db: int) -> str:
    hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in sentinels)
    return f"{SENTINEL_SCHEME}://{hosts}/{master}/{db}"


def cluster_url(nodes: list[tuple[str, int]]) -> str:
    hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in nodes)
    return f"{CLUSTER_SCHEME}://{hosts}"


def parse_cluster_url(url: str) -> list[tuple[str, int]] | None:
    """The start-up nodes of a redis+cluster:// URL; None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme != CLUSTER_SCHEME:
        return None
    nodes = []
    for item in rest.rstrip("/").split(","):
        host, _, port = item.rpartition(":")
        nodes.append((host.strip("[]"), int(port)))
    return nodes


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, int] | None:
    """(sentinels, master name, db) of a redis+sentinel:// URL; None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme != SENTINEL_SCHEME:
        return None
    hosts, _, path = rest.partition("/")
    master, _, db = path.partition("/")
    sentinels = []
    for item in hosts.split(","):
        host, _, port = item.rpartition(":")
        sentinels.append((host.strip("[]"), int(port)))
    return sentinels, master, int(db or 0)


def development_secret_key(path: Path) -> str:
    """This install's own random SECRET_KEY for DEBUG, created (mode 0600) on first start.

    Never a key written in the source: anyone could sign sessions and JWTs with that.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(64))
    try:
        # A hard link appears whole or not at all: of two processes starting at once,
        # both end up with whichever key was linked first.
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to show in an error or a log."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparseable URL>"
    return url


def _scheme_of(name: str, url: str, allowed: set[str]) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in allowed:
        raise ImproperlyConfigured(
            f"{name} has an unsupported scheme {scheme or '(none)'!r} in {redact_url(url)!r}; "
            f"use one of: {', '.join(sorted(allowed))}"
        )
    return scheme


def parse_database_url(url: str, name: str = "DATABASE_URL") -> dict:
    """A Django DATABASES entry for `url`: SQLite or MySQL/MariaDB (mysqlclient).

    MySQL gets utf8mb4 (emoji in chat), strict mode (no silent truncation of
    a chat message or a coin amount) and READ COMMITTED, which Django
    recommends for MySQL so that get_or_create and locking behave. It goes
    through infra/db/mysql, whose process pool keeps connections for reuse:
    Django closes (hands back) its connection after every request, because
    under ASGI a connection kept by the request's thread outlives the thread.
    """
    scheme = _scheme_of(name, url, DATABASE_SCHEMES)
    if scheme == "mariadb":
        url = "mysql" + url[len("mariadb") :]
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is malformed ({redact_url(url)!r}): {error}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: {redact_url(url)!r}")
    if scheme in {"mysql", "mariadb"}:
        config["ENGINE"] = "infra.db.mysql"
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO', time_zone='+00:00'",
            "isolation_level": "read committed",
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return config


def parse_service_url(name: str, url: str, allowed: set[str]) -> str:
    """`url` unchanged once its scheme and host are known good."""
    _scheme_of(name, url, allowed)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is malformed ({redact_url(url)!r}): {error}") from None
    if parts.scheme not in {"unix", "memory"} and not parts.hostname:
        raise ImproperlyConfigured(f"{name} names no host: {redact_url(url)!r}")
    return url


EMAIL_SCHEMES = {"console", "smtp", "smtps", "locmem", "dummy"}
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
}


def parse_email_url(url: str, name: str = "EMAIL_URL") -> dict:
    """Django's EMAIL_* settings for `url`.

    `console://` prints mail (development); `smtp://user:password@host:587` uses
    STARTTLS (`?tls=0` for a local relay without it), `smtps://…:465` implicit TLS;
    `?timeout=10` sets the socket timeout.
    User and password may be percent-encoded. Written here rather than taken from
    dj-email-url: that package is unmaintained and this is a dozen lines.
    """
    from urllib.parse import parse_qs, unquote

    scheme = _scheme_of(name, url, EMAIL_SCHEMES)
    config = {"EMAIL_BACKEND": _EMAIL_BACKENDS[scheme]}
    if scheme not in {"smtp", "smtps"}:
        return config
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is malformed ({redact_url(url)!r}): {error}") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} names no host: {redact_url(url)!r}")
    query = parse_qs(parts.query)
    timeout = query.get("timeout", ["10"])[0]
    if not timeout.isdigit():
        raise ImproperlyConfigured(f"{name} has a bad timeout {timeout!r}; use whole seconds")
    config.update(
        EMAIL_HOST=parts.hostname,
        EMAIL_PORT=port or (465 if scheme == "smtps" else 587),
        EMAIL_HOST_USER=unquote(parts.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
        EMAIL_USE_TLS=scheme == "smtp" and query.get("tls", ["1"])[0] != "0",
        EMAIL_USE_SSL=scheme == "smtps",
        EMAIL_TIMEOUT=int(timeout),
    )
    return config
