"""The shipped nginx edge (deploy/nginx.conf) in front of a real origin: LL-HLS playlist
requests are cached by their query and a stampede for the next part is collapsed.

The `location /hls/` block and the cache settings are taken from deploy/nginx.conf as
shipped; only the listen port, the upstream port and the folders are this test's.
"""

import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import need_service
from streaming.tests.test_blocking_reload import live_playlist, publish
from tests.support.servers import daphne_server, free_port

pytestmark = pytest.mark.django_db(transaction=True)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
PLAYLIST = "/hls/alices-room/source/index.m3u8"


def shipped_hls_location() -> str:
    text = SHIPPED.read_text()
    start = text.index("    location /hls/ {")
    return text[start : text.index("\n    }\n", start) + 7]


def shipped_cache_path(folder: Path) -> str:
    line = re.search(r"proxy_cache_path [^;]+;", SHIPPED.read_text(), re.S)[0]
    return re.sub(r"proxy_cache_path \S+", f"proxy_cache_path {folder}/cache", line)


@pytest.fixture
def edge(tmp_path, settings):
    # setup.sh installs nginx-light; CI (LIVESITE_REQUIRE_SERVICES=1) fails without it.
    need_service("nginx", os.path.exists(NGINX), "install the Debian package nginx-light")
    hls_root = tmp_path / "hls"
    folder = hls_root / "alices-room" / "source"
    folder.mkdir(parents=True)
    publish(folder, "index.m3u8", live_playlist(complete=4, parts=1).encode())
    with daphne_server({"HLS_ROOT": str(hls_root)}) as origin:
        port = free_port()
        upstream_port = origin.url.rsplit(":", 1)[1]
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            f"""
daemon off; user root; worker_processes 1; pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
  fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi;
  scgi_temp_path {tmp_path}/scgi;
  {shipped_cache_path(tmp_path)}
  upstream livesite_web {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
  server {{
    listen 127.0.0.1:{port};
{shipped_hls_location()}
  }}
}}
"""
        )
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)])
        try:
            deadline = time.monotonic() + 10
            while not (tmp_path / "nginx.pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", folder
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- our http URL
            return response.status, response.headers["X-Cache-Status"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["X-Cache-Status"], ""


def test_players_waiting_for_the_same_part_make_one_request_upstream(edge):
    base, folder = edge
    answers = []

    def ask():
        answers.append(get(f"{base}{PLAYLIST}?_HLS_msn=4&_HLS_part=1"))

    askers = [threading.Thread(target=ask) for _ in range(5)]
    for asker in askers:
        asker.start()
        time.sleep(0.05)
    time.sleep(0.5)  # a negative: give nginx time to (wrongly) answer early
    assert not answers, "answered before the part existed"
    publish(folder, "index.m3u8", live_playlist(complete=4, parts=2).encode())
    for asker in askers:
        asker.join(timeout=10)
    assert [status for status, _, _ in answers] == [200] * 5
    assert all('URI="part_4_1.m4s"' in body for _, _, body in answers)
    assert sorted(cache for _, cache, _ in answers) == ["HIT"] * 4 + ["MISS"]


def test_the_query_is_part_of_the_cache_key(edge):
    base, folder = edge
    assert get(f"{base}{PLAYLIST}?_HLS_msn=3&_HLS_part=0")[1] == "MISS"
    assert get(f"{base}{PLAYLIST}?_HLS_msn=3&_HLS_part=0")[1] == "HIT"
    publish(folder, "index.m3u8", live_playlist(complete=4, parts=2).encode())
    status, cache, body = get(f"{base}{PLAYLIST}?_HLS_msn=4&_HLS_part=1")
    assert (status, cache) == (200, "MISS") and 'URI="part_4_1.m4s"' in body


def test_a_refused_directive_is_not_cached(edge):
    base, _ = edge
    assert get(f"{base}{PLAYLIST}?_HLS_msn=abc")[0] == 400
    assert get(f"{base}{PLAYLIST}?_HLS_msn=abc")[1] != "HIT"
