"""Taking payment for coins: one interface, and a PLACEHOLDER that takes no money.

`buy_coins` (gifts.services.coins) asks the configured provider
(`GIFTS_PAYMENT_PROVIDER`) to charge for a coin package and credits the
coins only once the provider approves. A real provider (Stripe, Adyen, an app
store receipt check) implements `PaymentProvider.charge` and is named in that
setting; nothing else changes. It receives the purchase's idempotency key so
that a retried purchase is never charged twice by the provider either.

THE DEFAULT PROVIDER IS A PLACEHOLDER: it approves every charge and no money
moves. The buy-coins page says so to the user while it is configured. It sells
only on a declared demo (`GIFTS_DEMO_PAYMENTS`, on by default only with DEBUG);
otherwise `buy_coins` refuses and `manage.py check --deploy` reports gifts.E001.
"""

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache

from django.utils.module_loading import import_string

from gifts import conf


@dataclass(frozen=True)
class CoinPackage:
    coins: int
    price: str  # as shown, in conf.currency_symbol()

    @property
    def id(self) -> str:
        return f"coins-{self.coins}"


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    reference: str = ""  # the provider's id for the charge, kept on the transfer
    message: str = ""  # why it was declined, for the user


class PaymentProvider(ABC):
    """Charges a user for a coin package. Subclass it to plug in a real provider."""

    is_placeholder = False
    name = "payment provider"

    @abstractmethod
    def charge(self, user, package: CoinPackage, idempotency_key: str) -> PaymentResult:
        """Take the package's price; answer approved or declined, never raise for a decline."""


class PlaceholderPaymentProvider(PaymentProvider):
    """PLACEHOLDER: approves every charge without taking any money. Not for production."""

    is_placeholder = True
    name = "placeholder (no money is taken)"

    def charge(self, user, package: CoinPackage, idempotency_key: str) -> PaymentResult:
        return PaymentResult(approved=True, reference=f"placeholder-{uuid.uuid4().hex[:16]}")


@cache
def _provider_class(path: str) -> type[PaymentProvider]:
    return import_string(path)


def provider() -> PaymentProvider:
    return _provider_class(conf.payment_provider_path())()


def may_sell(chosen: PaymentProvider) -> bool:
    """False for the placeholder on a site that has not said it is a demo: free coins."""
    return not chosen.is_placeholder or conf.demo_payments()


def packages() -> list[CoinPackage]:
    return [CoinPackage(int(coins), str(price)) for coins, price in conf.coin_packages()]


def find_package(package_id: str) -> CoinPackage | None:
    return next((package for package in packages() if package.id == package_id), None)
