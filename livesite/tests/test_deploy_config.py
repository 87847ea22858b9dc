"""The shipped deployment files keep client addresses honest."""

import re

from django.conf import settings

NGINX = settings.BASE_DIR / "deploy" / "nginx.conf"


def test_nginx_sets_the_forwarded_address_itself_and_never_appends_the_clients():
    config = NGINX.read_text()
    headers = re.findall(r"^\s*proxy_set_header X-Forwarded-For (\S+);", config, re.MULTILINE)
    assert headers and set(headers) == {"$remote_addr"}


def test_no_run_instructions_start_daphne_believing_any_forwarded_header():
    # docs/reliability.md records the old instruction as history; these say how to run.
    for name in ("README.md", "docs/operations.md", "docs/architecture.md"):
        text = (settings.BASE_DIR / name).read_text()
        assert "daphne -b" in text or name != "README.md"
        assert not re.search(r"daphne [^`\n]*--proxy-headers", text), name
