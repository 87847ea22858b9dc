"""`python manage.py gifts_check_ledger`: prove every balance equals its ledger sum.

Exits non-zero and lists each disagreement when there is one, so it can run
from cron or a deploy check.
"""

from django.core.management.base import BaseCommand, CommandError

from gifts import ledger
from gifts.models import Balance, LedgerEntry, Transfer


class Command(BaseCommand):
    help = "Check that every user's balances equal the sums of their ledger entries."

    def handle(self, *args, **options):
        problems = ledger.audit()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger problem(s) found.")
        users = Balance.objects.values("user_id").distinct().count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger OK: {users} users, {Transfer.objects.count()} transfers, "
                f"{LedgerEntry.objects.count()} entries; every balance equals its ledger sum."
            )
        )
