"""The shipped deployment files keep client addresses honest."""

import re

import pytest
from django.conf import settings

NGINX = settings.BASE_DIR / "deploy" / "nginx.conf"
NGINX_WEB_CLUSTER = settings.BASE_DIR / "deploy" / "nginx-web-cluster.conf"


@pytest.mark.parametrize("shipped", [NGINX, NGINX_WEB_CLUSTER], ids=lambda path: path.name)
def test_nginx_sets_the_forwarded_address_itself_and_never_appends_the_clients(shipped):
    config = shipped.read_text()
    headers = re.findall(r"^\s*proxy_set_header X-Forwarded-For (\S+);", config, re.MULTILINE)
    assert headers and set(headers) == {"$remote_addr"}
    assert "$proxy_add_x_forwarded_for" not in re.sub(r"#[^\n]*", "", config)


def test_the_web_cluster_never_retries_a_post_on_another_process():
    # A gift or a log-in that reached a process that then died must not be sent twice.
    retries = re.findall(r"^\s*proxy_next_upstream ([^;]+);", NGINX_WEB_CLUSTER.read_text(), re.M)
    assert retries and all("non_idempotent" not in line for line in retries)


def test_no_run_instructions_start_daphne_believing_any_forwarded_header():
    # docs/reliability.md records the old instruction as history; these say how to run.
    for name in ("README.md", "docs/operations.md", "docs/architecture.md"):
        text = (settings.BASE_DIR / name).read_text()
        assert "daphne -b" in text or name != "README.md"
        assert not re.search(r"daphne [^`\n]*--proxy-headers", text), name
