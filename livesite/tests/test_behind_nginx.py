"""The shipped deploy/nginx.conf in front of a real daphne: forged client addresses do not help.

nginx (a private instance on a free port) runs the repository's own configuration, with
only its listen port, upstream port and cache folder changed for the test.
"""

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from conftest import need_service
from tests.support.servers import daphne_server, free_port, stop_process

pytestmark = pytest.mark.django_db(transaction=True)
NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if shutil.os.path.exists("/usr/sbin/nginx") else None
)


def nginx_config(folder, listen_port: int, upstream_url: str) -> str:
    shipped = (settings.BASE_DIR / "deploy" / "nginx.conf").read_text()
    upstream = upstream_url.removeprefix("http://")
    site = (
        shipped.replace("/var/cache/nginx/livesite-hls", str(folder / "cache"))
        .replace("server 127.0.0.1:8000;", f"server {upstream};")
        .replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    )
    temp = folder / "temp"
    return f"""
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""


@pytest.fixture
def site_behind_nginx(request, tmp_path, bob):
    """The site through nginx; a test may pass (indirectly) variables for its daphne."""
    need_service("nginx", bool(NGINX))
    (tmp_path / "temp").mkdir()
    with daphne_server(extra_env=getattr(request, "param", {})) as server:
        port = free_port()
        config = tmp_path / "nginx.conf"
        config.write_text(nginx_config(tmp_path, port, server.url))
        process = subprocess.Popen(
            [
                NGINX,
                "-c",
                str(config),
                "-p",
                str(tmp_path),
                "-g",
                "daemon off; master_process off;",
            ],
            stderr=subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while status_of(url + "/healthz") != 200:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.2)
            yield url
        finally:
            stop_process(process)


def answer_of(url: str, body: dict | None = None, **headers) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def status_of(url: str, body: dict | None = None, **headers) -> int:
    return answer_of(url, body, **headers)[0]


@pytest.mark.parametrize("site_behind_nginx", [{"API_RATE_ANON": "3/min"}], indirect=True)
def test_rotating_forged_addresses_do_not_reset_the_api_throttle(site_behind_nginx):
    statuses = [
        status_of(site_behind_nginx + "/api/rooms/", **{"X-Forwarded-For": f"198.51.100.{n}"})
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_twelve_forged_addresses_then_the_right_password_get_no_token(site_behind_nginx, password):
    token = site_behind_nginx + "/api/token/"
    for n in range(12):
        status_of(
            token,
            {"username": "bob", "password": "wrong"},
            **{"X-Forwarded-For": f"198.51.100.{n}"},
        )
    status, body = answer_of(token, {"username": "bob", "password": password})
    assert (status, "Too many attempts" in body) == (429, True)


@pytest.mark.parametrize(
    "site_behind_nginx", [{"METRICS_ALLOWED_NETWORKS": "10.99.0.0/16"}], indirect=True
)
def test_a_forged_allowed_network_does_not_open_the_metrics(site_behind_nginx):
    assert status_of(site_behind_nginx + "/metrics", **{"X-Forwarded-For": "10.99.1.1"}) == 403
    assert status_of(site_behind_nginx + "/healthz") == 200


def test_the_config_under_test_is_the_shipped_one():
    assert re.search(r"X-Forwarded-For \$remote_addr;", nginx_config(settings.BASE_DIR, 1, "x:1"))
