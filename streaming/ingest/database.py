"""ORM calls from the ingest's event loop."""

from asgiref.sync import sync_to_async
from django.db import close_old_connections


async def call(function, *args):
    """Run an ORM call on the shared database thread; a stale connection is replaced first."""

    def call():
        close_old_connections()
        return function(*args)

    return await sync_to_async(call, thread_sensitive=True)()
