"""MariaDB killed and started again while viewers send gifts over REST.

A daphne serves a MariaDB of the test's own (a copy of the test database). Three
senders post gifts, each with a fresh idempotency key, and retry a send with the same
key until it is answered with success, as the REST clients are told to. They keep under
the gift rate limit, so any 429 would be the limit charging someone wrongly. Mid-load the
database gets SIGKILL and comes back two seconds later (InnoDB crash recovery). While it
is down a send must fail cleanly (503, a JSON error, no hang past the client's timeout);
afterwards sends succeed, and nobody is charged twice for one key.
"""

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from gifts.services.sending import SEND_RATE_PER_SECOND
from tests.support.servers import daphne_server

from .conftest import LOAD_ENV
from .ledger_checks import assert_ledger_consistent
from .private_servers import private_mariadb

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]

REQUEST_TIMEOUT = 15  # seconds; a send that hangs longer than this is a failure too
PACE = 1.25 / SEND_RATE_PER_SECOND  # seconds between one sender's requests: under its rate


def post_gift(url: str, token: str, key: str) -> tuple[int, dict | None]:
    body = json.dumps({"gift": "rose", "quantity": 1, "idempotency_key": key}).encode()
    request = urllib.request.Request(  # noqa: S310 -- a loopback http URL the test built
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def test_mariadb_restart_charges_no_gift_twice(
    shared_services, server_binaries, live_alice_room, gifting_viewers
):
    senders = [user for user, _cookie in gifting_viewers[:3]]
    tokens = [str(AccessToken.for_user(user)) for user in senders]
    answers: Counter = Counter()
    bodies_while_down: list = []
    acked: set[str] = set()
    lock = threading.Lock()

    def send_until(url: str, token: str, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            key = uuid.uuid4().hex
            while time.monotonic() < stop_at + 30:  # then keep retrying this key
                status, body = post_gift(url, token, key)
                with lock:
                    answers[status] += 1
                    if status >= 500 and len(bodies_while_down) < 20:
                        bodies_while_down.append((status, body))
                if status in (200, 201):
                    with lock:
                        acked.add(key)
                    break
                time.sleep(PACE)
            time.sleep(PACE)

    with private_mariadb() as database:
        database.copy_database_from(connection.settings_dict, "livesite_faults")
        env = {**LOAD_ENV, "DATABASE_URL": database.url("livesite_faults")}
        with daphne_server(env) as server:
            url = f"{server.url}/api/rooms/{live_alice_room.slug}/gifts/"
            stop_at = time.monotonic() + 8
            with ThreadPoolExecutor(len(tokens)) as pool:
                futures = [pool.submit(send_until, url, token, stop_at) for token in tokens]
                time.sleep(1.5)  # the scenario's timeline: load, then the fault
                database.kill()
                time.sleep(2)  # the database stays away this long
                database.start(timeout=60)
                for future in futures:
                    future.result()
        database.copy_database_to("livesite_faults", connection.settings_dict)

    print(f"answers: {dict(answers)}")
    assert answers[0] == 0  # no send hung past the timeout or lost its connection
    assert answers[201] >= 10 and len(acked) == answers[201] + answers[200]
    failures = {status for status in answers if status >= 400}
    assert failures, "the database restart was not noticed by any send"
    # Sends failed cleanly while the database was away: 503 with a JSON error body.
    assert failures == {503}, bodies_while_down[:3]
    assert all(body and body.get("code") for _status, body in bodies_while_down)
    assert_ledger_consistent(100_000, senders, acked)
