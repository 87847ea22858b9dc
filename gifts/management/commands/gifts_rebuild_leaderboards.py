"""`python manage.py gifts_rebuild_leaderboards`: rebuild the Redis leaderboards from the ledger.

For after Redis lost data. Runs the Celery task (on a worker when there is a
broker, here with --now).
"""

from django.core.management.base import BaseCommand

from gifts import tasks


class Command(BaseCommand):
    help = "Rebuild the gift leaderboards in Redis from the gift sends in the database."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Only boards touched in the last N days.")
        parser.add_argument("--now", action="store_true", help="Run here instead of on a worker.")

    def handle(self, *args, days=None, now=False, **options):
        if now:
            count = tasks.rebuild_leaderboards(days)
            self.stdout.write(self.style.SUCCESS(f"Rebuilt {count} leaderboards."))
        else:
            result = tasks.rebuild_leaderboards.delay(days)
            self.stdout.write(self.style.SUCCESS(f"Queued the rebuild (task {result.id})."))
