"""Django's MySQL/MariaDB backend, with connections taken from and given back to the process pool.

`DATABASE_URL=mysql://...` selects it (livesite/config.py). Everything but opening
and closing the MySQL connection is Django's; see infra/db/pool.py for why.
"""

import weakref

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.mysql import base as mysql
from django.utils.asyncio import async_unsafe

from infra.db.pool import process_pool


def _pool_key(conn_params: dict) -> tuple:
    # Server, user, database and session options; `conv` (type converters) is the same for all.
    return tuple(
        sorted((name, str(value)) for name, value in conn_params.items() if name != "conv")
    )


class DatabaseWrapper(mysql.DatabaseWrapper):
    _lease = None
    _reused = False

    @async_unsafe
    def get_new_connection(self, conn_params):
        pool = process_pool(
            settings.DATABASE_MAX_CONNECTIONS,
            settings.DATABASE_CONNECTION_WAIT,
            bool(self.settings_dict.get("CONN_HEALTH_CHECKS")),
        )
        connect = super().get_new_connection
        lease = pool.check_out(_pool_key(conn_params), lambda: connect(conn_params))
        # Only the thread's own local state holds the lease strongly: when the thread
        # ends, the lease goes at once, even though this wrapper waits for the collector.
        self._lease = weakref.ref(lease)
        self._reused = lease.reused
        return lease.raw

    def init_connection_state(self):
        if self._reused:
            # The session settings (isolation level) were made when it was opened.
            BaseDatabaseWrapper.init_connection_state(self)
        else:
            super().init_connection_state()

    def _close(self):
        lease = self._lease() if self._lease else None
        self._lease = None
        if lease is None or lease.returned:
            return  # closed when its thread ended, or it was never ours
        # Reuse only a connection at rest: no transaction open, nothing failed on it.
        at_rest = self.autocommit and not self.in_atomic_block and not self.errors_occurred
        lease.pool.check_in(lease, reusable=at_rest)
