"""Coins in and balances: admin and demo grants, purchases through the payment provider,
a user's wallet. Each credit is one transfer with its ledger entry (gifts/ledger.py);
an idempotency key makes a repeat (a double-submitted form, a retried purchase) answer
with the first one and move nothing.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts import permissions
from gifts import conf, ledger, payments
from gifts.errors import (
    BadAmount,
    IdempotencyKeyReused,
    NotSignedIn,
    PaymentFailed,
    PaymentsNotSetUp,
    UnknownPackage,
)
from gifts.idempotency import checked_key
from gifts.models import Currency, Transfer


@dataclass(frozen=True)
class Purchase:
    transfer_id: int
    coins: int
    balance: int
    replayed: bool


@dataclass(frozen=True)
class Wallet:
    coins: int
    diamonds: int

    def as_dict(self) -> dict:
        return {"coins": self.coins, "diamonds": self.diamonds}


def grant_coins(user, amount, reason: str, by=None, idempotency_key: str | None = None):
    """Give `user` coins (admin top-up, demo coins); a Transfer of kind grant.

    With an idempotency key (the admin form sends one), a repeat grants nothing
    and returns the first transfer.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadAmount()
    if amount > conf.max_grant():
        raise BadAmount(f"At most {conf.max_grant()} coins can be granted at once.")
    if idempotency_key is None:
        return _credit_coins(user, amount, Transfer.Kind.GRANT, reason, by, None)
    key = checked_key(idempotency_key)
    try:
        return _credit_coins(user, amount, Transfer.Kind.GRANT, reason, by, key)
    except IntegrityError:
        # Granted already (a double-submitted form): the same grant, or a misused key.
        earlier = Transfer.objects.filter(initiator=by, idempotency_key=key).first()
        entry = earlier.entries.first() if earlier else None
        if entry is None or (earlier.kind, entry.user_id, entry.amount) != (
            Transfer.Kind.GRANT,
            user.pk,
            amount,
        ):
            raise IdempotencyKeyReused() from None
        return earlier


def top_up_to(user, target: int, reason: str) -> int:
    """Grant what `user` lacks to hold `target` coins (so `manage.py demo` can run again)."""
    missing = target - wallet_of(user).coins
    if missing > 0:
        grant_coins(user, missing, reason)
    return max(missing, 0)


@ledger.retry_on_deadlock
@transaction.atomic
def _credit_coins(user, amount, kind, memo, initiator, key, reference="") -> Transfer:
    transfer = Transfer.objects.create(
        kind=kind,
        initiator=initiator,
        idempotency_key=key,
        memo=(memo or "")[:200],
        reference=reference,
    )
    ledger.post_entries([(transfer.pk, user.pk, Currency.COINS, amount)], transfer.created_at)
    ledger.credit(user.pk, Currency.COINS, amount)
    return transfer


def buy_coins(user, package_id: str, idempotency_key) -> Purchase:
    """Charge the user through the payment provider, then credit the package's coins."""
    if not permissions.is_signed_in(user):
        raise NotSignedIn("Log in to buy coins.")
    key = checked_key(idempotency_key)
    package = payments.find_package(package_id)
    if package is None:
        raise UnknownPackage()
    earlier = _earlier_purchase(user, key, package)
    if earlier is not None:
        return earlier
    provider = payments.provider()
    if not payments.may_sell(provider):
        raise PaymentsNotSetUp()
    # The provider gets the key too, so a retry is not charged twice on its side either.
    result = provider.charge(user, package, key)
    if not result.approved:
        raise PaymentFailed(result.message or None)
    memo = f"{package.coins} coins for {package.price} {conf.currency_symbol()}"
    try:
        transfer = _credit_coins(
            user, package.coins, Transfer.Kind.PURCHASE, memo, user, key, result.reference
        )
    except IntegrityError:
        earlier = _earlier_purchase(user, key, package)
        if earlier is None:
            raise
        return earlier
    return Purchase(transfer.pk, package.coins, wallet_of(user).coins, replayed=False)


def _earlier_purchase(user, key: str, package) -> Purchase | None:
    transfer = Transfer.objects.filter(initiator=user, idempotency_key=key).first()
    if transfer is None:
        return None
    entry = transfer.entries.filter(user=user, currency=Currency.COINS).first()
    if transfer.kind != Transfer.Kind.PURCHASE or entry is None or entry.amount != package.coins:
        raise IdempotencyKeyReused()
    return Purchase(transfer.pk, package.coins, wallet_of(user).coins, replayed=True)


def wallet_of(user) -> Wallet:
    return Wallet(
        coins=ledger.balance_of(user.pk, Currency.COINS),
        diamonds=ledger.balance_of(user.pk, Currency.DIAMONDS),
    )
