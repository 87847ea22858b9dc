"""Several ingest "machines" on one box, behind one public nginx, from the shipped files.

Each node is a `manage.py ingest` with its own INGEST_NODE_ID and HLS_ROOT, its own
nginx serving that folder (deploy/nginx-hls-node.conf) and its own origin daphne for
playlists. One public nginx runs deploy/nginx-rtmp-balancer.conf (stream) and
deploy/nginx-hls-edge-cluster.conf (http) in front of them and of a web daphne with
HLS_NODE_ROUTING. Only listen ports, upstream addresses and folders are changed from
the shipped files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from conftest import need_service
from streaming.tests.live_ingest import RunningIngest, ingest_process
from tests.support.servers import daphne_server, free_port, stop_process

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")
DEPLOY = settings.BASE_DIR / "deploy"


def need_cluster_binaries() -> None:
    need_service("nginx", bool(NGINX), "install the Debian package nginx-light")
    need_service("nginx's stream module", STREAM_MODULE.exists(), "install libnginx-mod-stream")
    need_service("ffmpeg", shutil.which("ffmpeg") is not None, "ffmpeg is the broadcaster")


def _replace_once(text: str, pattern: str, replacement: str) -> str:
    result, count = re.subn(pattern, replacement, text)
    assert count == 1, f"the shipped file changed shape near {pattern!r}"
    return result


def node_site(folder: Path, listen_port: int, origin_port: int) -> str:
    site = (DEPLOY / "nginx-hls-node.conf").read_text()
    site = _replace_once(site, r"listen 10\.0\.0\.5:8081;", f"listen 127.0.0.1:{listen_port};")
    site = _replace_once(site, r"root /var/lib/livesite;", f"root {folder};")
    return _replace_once(site, r"server 127\.0\.0\.1:8090;", f"server 127.0.0.1:{origin_port};")


def edge_site(folder: Path, listen_port: int, web_port: int) -> str:
    site = (DEPLOY / "nginx-hls-edge-cluster.conf").read_text()
    site = _replace_once(
        site, r"proxy_cache_path /var/cache/nginx/livesite-hls", f"proxy_cache_path {folder}/cache"
    )
    site = _replace_once(site, r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{web_port};")
    return _replace_once(site, r"listen 80;", f"listen 127.0.0.1:{listen_port};")


def balancer_site(listen_port: int, ingest_ports: list[int]) -> str:
    site = (DEPLOY / "nginx-rtmp-balancer.conf").read_text()
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in ingest_ports
    )
    site = _replace_once(site, r"(    server 10\.0\.0\.\d+:1935 [^\n]*\n)+", servers)
    return _replace_once(site, r"listen 1935;", f"listen 127.0.0.1:{listen_port};")


def nginx_config(folder: Path, http: str, stream: str = "") -> str:
    temp = folder / "temp"
    load = f"load_module {STREAM_MODULE};\n" if stream else ""
    stream_block = f"stream {{\n{stream}\n}}\n" if stream else ""
    return f"""{load}pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
{stream_block}http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{http}
}}
"""


@contextmanager
def private_nginx(folder: Path, config: str, port: int):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "temp").mkdir(exist_ok=True)
    (folder / "nginx.conf").write_text(config)
    # One process as the test's user: the folders are the test's own (mode 0700).
    command = [NGINX, "-c", str(folder / "nginx.conf"), "-p", str(folder),
               "-g", "daemon off; master_process off;"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        _wait_listening(port, process, folder)
        yield process
    finally:
        if process.poll() is None:
            stop_process(process, timeout=10)


def _wait_listening(port: int, process: subprocess.Popen, folder: Path) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx in {folder} did not listen on {port}")


@dataclass
class IngestNode:
    node_id: str
    ingest: RunningIngest
    nginx: subprocess.Popen
    hls_address: str


PLAYER_ORIGIN = "https://player.example"  # a player on another site, allowed by CORS


@dataclass
class VideoCluster:
    nodes: list[IngestNode]
    rtmp_port: int
    http_url: str

    def rtmp_url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"

    def node(self, node_id: str) -> IngestNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def get(self, path: str, timeout: float = 10.0, **headers) -> tuple[int, dict, bytes]:
        try:
            # http://127.0.0.1:<port>/...
            request = urllib.request.Request(self.http_url + path, headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@contextmanager
def video_cluster(folder: Path, node_ids=("ingest-a", "ingest-b"), ingest_env=None):
    """Two (or more) ingest nodes and the public nginx; yields a VideoCluster."""
    need_cluster_binaries()
    with ExitStack() as stack:
        nodes = []
        for node_id in node_ids:
            node_folder = folder / node_id
            hls_port = free_port()
            origin = stack.enter_context(daphne_server({"HLS_ROOT": str(node_folder / "hls")}))
            origin_port = int(origin.url.rsplit(":", 1)[1])
            (node_folder / "hls").mkdir(parents=True)
            site = node_site(node_folder, hls_port, origin_port)
            config = nginx_config(node_folder / "nginx", site)
            nginx = stack.enter_context(private_nginx(node_folder / "nginx", config, hls_port))
            address = f"127.0.0.1:{hls_port}"
            env = {"INGEST_NODE_ID": node_id, "INGEST_NODE_HLS_ADDRESS": address,
                   **(ingest_env or {})}  # fmt: skip
            ingest = stack.enter_context(ingest_process(node_folder, env))
            nodes.append(IngestNode(node_id, ingest, nginx, address))
        web = stack.enter_context(
            daphne_server({"HLS_NODE_ROUTING": "1", "CORS_ALLOWED_ORIGINS": PLAYER_ORIGIN})
        )
        web_port = int(web.url.rsplit(":", 1)[1])
        rtmp_port, http_port = free_port(), free_port()
        edge_folder = folder / "edge"
        config = nginx_config(
            edge_folder,
            http=edge_site(edge_folder, http_port, web_port),
            stream=balancer_site(rtmp_port, [node.ingest.port for node in nodes]),
        )
        stack.enter_context(private_nginx(edge_folder, config, http_port))
        yield VideoCluster(nodes, rtmp_port, f"http://127.0.0.1:{http_port}")
