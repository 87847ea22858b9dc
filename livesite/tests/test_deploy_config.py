"""The shipped deployment files keep client addresses honest."""

import re

from django.conf import settings

NGINX = settings.BASE_DIR / "deploy" / "nginx.conf"


def test_nginx_sets_the_forwarded_address_itself_and_never_appends_the_clients():
    config = NGINX.read_text()
    headers = re.findall(r"^\s*proxy_set_header X-Forwarded-For (\S+);", config, re.MULTILINE)
    assert headers and set(headers) == {"$remote_addr"}


def test_no_document_tells_daphne_to_believe_any_forwarded_header():
    for path in [settings.BASE_DIR / "README.md", *(settings.BASE_DIR / "docs").glob("*.md")]:
        for line in path.read_text().splitlines():
            assert "--proxy-headers" not in line or "no `--proxy-headers`" in line, path
