"""`python manage.py serve`: web (daphne) and the RTMP ingest in one process.

The one-command start on embedded defaults. With the in-memory channel layer an event
reaches only the process that sent it, so the ingest must live in the web process for
"room is live" to reach open pages; daphne runs Twisted on an asyncio loop, and the
ingest simply runs on that same loop. Production runs the two apart (`daphne ...` and
`manage.py ingest`) with Redis between them. Site-level (it runs the whole site), so it
lives with the wiring rather than in an app.

With no Celery broker (the embedded default) nothing runs `celery beat`, so this
process runs the app's beat schedule itself (settings.CELERY_BEAT_SCHEDULE and what apps
add, like the gift statistics sweep), on the same periods, in a worker thread
(`PeriodicTasks`).
"""

import asyncio
import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.listen_address import check_bind

logger = logging.getLogger("livesite.ingest")


class Command(BaseCommand):
    help = "Serve the site and the RTMP ingest from one process (development, one machine)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="web address")
        parser.add_argument("--port", type=int, default=8000, help="web port")
        parser.add_argument("--ingest-host", default=settings.INGEST_HOST)
        parser.add_argument("--ingest-port", type=int, default=settings.INGEST_PORT)

    def handle(self, *args, host, port, ingest_host, ingest_port, **options):
        check_bind(host, "the web")
        check_bind(ingest_host, "the RTMP ingest")
        # daphne.server installs the asyncio Twisted reactor: import it before Twisted.
        from daphne.server import Server, twisted_loop
        from twisted.internet import defer, reactor

        from livesite.asgi import application
        from streaming.ingest.live_lock import configured_live_lock
        from streaming.ingest.service import Ingest
        from streaming.ingest.settings import IngestSettings

        ingest_settings = IngestSettings.from_django()
        lock = configured_live_lock(ingest_settings.lock_ttl)
        ingest = Ingest(ingest_settings, lock)

        def start_ingest():
            task = twisted_loop.create_task(ingest.start(ingest_host, ingest_port))
            task.add_done_callback(self._report_ingest)

        async def stop_ingest():
            if periodic:
                periodic.stop()
            await ingest.close()  # and its lock

        reactor.callWhenRunning(start_ingest)
        periodic = PeriodicTasks() if settings.CELERY_TASK_ALWAYS_EAGER else None
        if periodic:
            reactor.callWhenRunning(lambda: periodic.start(twisted_loop))

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


class PeriodicTasks:
    """settings.CELERY_BEAT_SCHEDULE, run by this process when there is no beat."""

    def __init__(self) -> None:
        self._tasks = []

    def start(self, loop) -> None:
        from livesite.celery import app

        app.loader.import_default_modules()
        app.finalize()  # apps add periodic tasks when the app is finalized (gifts/tasks.py)
        for name, entry in app.conf.beat_schedule.items():
            task = app.tasks[entry["task"]]
            seconds = _seconds(entry["schedule"])
            call = functools.partial(
                _fresh_connection, task.apply, entry.get("args", ()), entry.get("kwargs", {})
            )
            self._tasks.append(loop.create_task(self._every(name, call, seconds)))

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _every(self, name: str, call, seconds: float) -> None:
        from asgiref.sync import sync_to_async

        while True:
            await asyncio.sleep(seconds)
            try:
                result = await sync_to_async(call, thread_sensitive=False)()
                if result.failed():
                    logger.error("periodic task %s failed: %r", name, result.result)
            except Exception:
                logger.exception("periodic task %s failed", name)


def _fresh_connection(function, *args):
    """What a Celery worker does around a task: no stale database connection."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


def _seconds(schedule) -> float:
    """A beat entry's period: seconds, a timedelta, or a celery `schedule`."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    return schedule.run_every.total_seconds()
