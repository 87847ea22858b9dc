"""The process's database connection pool: a cap, waiting, and hand-back at thread end.

These use stand-in connections, so they run without a database; the real daphne
on MariaDB is in test_database_connections.py.
"""

import gc
import threading
import time

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from infra.db.pool import ConnectionPool, ConnectionPoolTimeout
from infra.db.views import server_error


class StandInConnection:
    opened = 0

    def __init__(self):
        StandInConnection.opened += 1
        self.closed = False
        self.answers = True

    def ping(self):
        if not self.answers or self.closed:
            raise OSError("gone away")

    def close(self):
        self.closed = True


def in_thread(work):
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_returned_connection_is_lent_again_without_connecting():
    pool = ConnectionPool(limit=2, wait=1)
    first = pool.check_out("db", StandInConnection)
    pool.check_in(first, reusable=True)

    second = pool.check_out("db", StandInConnection)

    assert second.raw is first.raw and second.reused
    assert pool.open == 1


def test_a_thread_that_ends_holding_a_connection_gives_it_back_without_the_collector():
    pool = ConnectionPool(limit=1, wait=0)
    lent = []

    def forget_to_return():
        lease = pool.check_out("db", StandInConnection)
        # Like Django's DatabaseWrapper: the holder sits in a cycle only the collector frees.
        cycle = {"raw": lease.raw}
        cycle["self"] = cycle
        lent.append(lease.raw)

    gc.disable()
    try:
        in_thread(forget_to_return)
        assert lent[0].closed
        assert pool.open == 0
        pool.check_out("db", StandInConnection)  # the slot is free again
    finally:
        gc.enable()


def test_a_caller_beyond_the_cap_waits_for_a_returned_connection():
    pool = ConnectionPool(limit=1, wait=5)
    held = pool.check_out("db", StandInConnection)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.check_out("db", StandInConnection)))
    waiter.start()
    time.sleep(0.2)  # a negative: give the waiter time to (wrongly) get a connection
    assert not got  # still waiting: the only connection is in use

    pool.check_in(held, reusable=True)
    waiter.join(5)

    assert got[0].raw is held.raw
    assert pool.open == 1


def test_a_caller_beyond_the_cap_is_refused_once_the_wait_is_over():
    pool = ConnectionPool(limit=1, wait=0.2)
    pool.check_out("db", StandInConnection)
    started = time.monotonic()

    with pytest.raises(ConnectionPoolTimeout) as refused:
        pool.check_out("db", StandInConnection)

    assert time.monotonic() - started >= 0.2
    assert isinstance(refused.value, OperationalError)  # what the site treats as the database's
    assert "DATABASE_MAX_CONNECTIONS" in str(refused.value)


def test_a_connection_that_stopped_answering_is_replaced():
    pool = ConnectionPool(limit=1, wait=1)
    lease = pool.check_out("db", StandInConnection)
    pool.check_in(lease, reusable=True)
    lease.raw.answers = False  # the server restarted while it sat idle

    fresh = pool.check_out("db", StandInConnection)

    assert fresh.raw is not lease.raw and not fresh.reused
    assert lease.raw.closed
    assert pool.open == 1


def test_a_connection_handed_back_mid_transaction_is_closed_not_reused():
    pool = ConnectionPool(limit=1, wait=1)
    lease = pool.check_out("db", StandInConnection)

    pool.check_in(lease, reusable=False)
    pool.check_in(lease, reusable=False)  # twice, as a close after thread end may

    assert lease.raw.closed
    assert pool.open == 0


def test_an_idle_connection_to_another_database_makes_room():
    pool = ConnectionPool(limit=1, wait=0)
    other = pool.check_out("livesite", StandInConnection)
    pool.check_in(other, reusable=True)

    lease = pool.check_out("test_livesite", StandInConnection)

    assert other.raw.closed and not lease.reused
    assert pool.open == 1


def test_a_failed_connect_frees_its_slot():
    pool = ConnectionPool(limit=1, wait=0)

    def refused():
        raise OperationalError(2003, "Can't connect")

    with pytest.raises(OperationalError):
        pool.check_out("db", refused)

    assert pool.open == 0
    pool.check_out("db", StandInConnection)


def test_a_request_that_found_every_connection_busy_is_told_to_retry():
    request = RequestFactory().get("/api/wallet/")
    try:
        raise ConnectionPoolTimeout("all 20 database connections stayed in use")
    except ConnectionPoolTimeout:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"busy" in response.content


def test_any_other_error_stays_a_server_error(db):
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)

    assert response.status_code == 500
