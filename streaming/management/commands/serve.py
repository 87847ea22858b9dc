"""`python manage.py serve`: web (daphne) and the RTMP ingest in one process.

The one-command start on embedded defaults. With the in-memory channel layer an event
reaches only the process that sent it, so the ingest must live in the web process for
"room is live" to reach open pages; daphne runs Twisted on an asyncio loop, and the
ingest simply runs on that same loop. Production runs the two apart (`daphne ...` and
`manage.py ingest`) with Redis between them.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger("livesite.ingest")


class Command(BaseCommand):
    help = "Serve the site and the RTMP ingest from one process (development, one machine)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="web address")
        parser.add_argument("--port", type=int, default=8000, help="web port")
        parser.add_argument("--ingest-host", default=settings.INGEST_HOST)
        parser.add_argument("--ingest-port", type=int, default=settings.INGEST_PORT)

    def handle(self, *args, host, port, ingest_host, ingest_port, **options):
        # daphne.server installs the asyncio Twisted reactor: import it before Twisted.
        from daphne.server import Server, twisted_loop
        from twisted.internet import defer, reactor

        from livesite.asgi import application
        from streaming.ingest.service import Ingest, IngestSettings
        from streaming.management.commands.ingest import _live_lock

        ingest_settings = IngestSettings.from_django()
        lock = _live_lock(ingest_settings.lock_ttl)
        ingest = Ingest(ingest_settings, lock)

        def start_ingest():
            task = twisted_loop.create_task(ingest.start(ingest_host, ingest_port))
            task.add_done_callback(self._report_ingest)

        async def stop_ingest():
            await ingest.close()
            await lock.close()

        reactor.callWhenRunning(start_ingest)

        def stopping():
            return defer.Deferred.fromFuture(twisted_loop.create_task(stop_ingest()))

        reactor.addSystemEventTrigger("before", "shutdown", stopping)
        self.stdout.write(f"web on http://{host}:{port}/, ingest on {ingest_host}:{ingest_port}")
        Server(application, endpoints=[f"tcp:port={port}:interface={host}"]).run()

    def _report_ingest(self, task) -> None:
        if task.exception() is not None:
            logger.error("ingest failed to start: %s", task.exception())
            from twisted.internet import reactor

            reactor.stop()
        else:
            self.stdout.write(f"ingest ready on port {task.result()}")
