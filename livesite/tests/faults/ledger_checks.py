"""What must hold of the gift ledger after any fault: no coin made, lost or charged twice."""

from django.db.models import Count, Sum

from gifts.models import Balance, GiftSend, LedgerEntry, Transfer


def assert_ledger_consistent(granted_per_sender: int, senders, acked_keys: set[str]) -> None:
    # Every balance row is the sum of its ledger entries: nothing moved outside the ledger.
    for user_id, currency in Balance.objects.values_list("user", "currency").distinct():
        balance = Balance.objects.filter(user=user_id, currency=currency).aggregate(s=Sum("amount"))
        entries = LedgerEntry.objects.filter(user=user_id, currency=currency).aggregate(
            s=Sum("amount")
        )
        assert balance["s"] == (entries["s"] or 0), (user_id, currency)
    # Each sender paid exactly for the sends stored, once each.
    for user in senders:
        spent = GiftSend.objects.filter(sender=user).aggregate(s=Sum("coins"))["s"] or 0
        coins = Balance.objects.get(user=user, currency="coins", slot=0).amount
        assert coins == granted_per_sender - spent, user.username
    # Every acknowledged send is stored, and no key was charged twice.
    stored = set(
        Transfer.objects.filter(kind="gift", idempotency_key__in=acked_keys).values_list(
            "idempotency_key", flat=True
        )
    )
    assert stored == acked_keys
    twice = Transfer.objects.values("initiator", "idempotency_key").annotate(n=Count("id"))
    assert not twice.filter(n__gt=1, idempotency_key__isnull=False)
