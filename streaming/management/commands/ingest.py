"""`python manage.py ingest`: the RTMP ingest process (see streaming/ingest/)."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from infra.listen_address import check_bind
from streaming import conf
from streaming.hls_nodes import NodeRegistry
from streaming.ingest.live_lock import configured_live_lock
from streaming.ingest.service import Ingest
from streaming.ingest.settings import IngestSettings


class Command(BaseCommand):
    help = "Run the RTMP ingest: authorize stream keys, transcode to HLS, mark rooms live."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=conf.ingest_host())
        parser.add_argument("--port", type=int, default=conf.ingest_port())

    def handle(self, *args, host: str, port: int, **options):
        check_bind(host, "the RTMP ingest")
        asyncio.run(self._serve(host, port))

    async def _serve(self, host: str, port: int) -> None:
        ingest_settings = IngestSettings.from_django()
        lock = configured_live_lock(ingest_settings.lock_ttl)
        # Several ingest machines: a dead node's rooms stay registered for the reconnect
        # grace after its lock expires, for the node that continues them.
        nodes = NodeRegistry.from_django(ingest_settings.lock_ttl + ingest_settings.reconnect_grace)
        ingest = Ingest(ingest_settings, lock, nodes)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        bound = await ingest.start(host, port)
        # Tests and scripts wait for this line (and read the port from it).
        self.stdout.write(f"ingest ready on {host}:{bound}")
        self.stdout.flush()
        try:
            await stopping.wait()
        finally:
            await ingest.close()  # and its lock
            if nodes:
                await nodes.close()

