"""System checks of the gifts app (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

from gifts import payments


@checks.register(checks.Tags.security, deploy=True)
def placeholder_payments_check(app_configs, **kwargs):
    provider = payments.provider()
    if settings.DEBUG or payments.may_sell(provider):
        return []
    return [
        checks.Error(
            "The payment provider is the placeholder, which gives coins away for free.",
            hint="Set GIFTS_PAYMENT_PROVIDER to a real provider, or GIFTS_DEMO_PAYMENTS=1 "
            "if this site is a demo.",
            id="gifts.E001",
        )
    ]
