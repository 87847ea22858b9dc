"""Gifts: the catalog, balances, the append-only ledger, gift sends and their statistics.

Money lives in three tables that only `gifts.ledger` writes:

- `Transfer`: one movement of value (a purchase, an admin grant, a gift), with
  the idempotency key of the request that made it;
- `LedgerEntry`: the signed amounts a transfer moves, one row per balance it
  touches; never updated or deleted;
- `Balance`: the running totals, kept equal to the ledger sums in the same
  transaction (`manage.py gifts_check_ledger` proves it).

Users are PROTECTed from deletion once they have ledger rows: a money record
must outlive an account (deactivate the user instead).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.templatetags.static import static
from django.utils import timezone


class Currency(models.TextChoices):
    COINS = "coins", "Coins"  # bought by viewers, spent on gifts
    DIAMONDS = "diamonds", "Diamonds"  # earned by broadcasters from gifts


class Gift(models.Model):
    class Tier(models.TextChoices):
        SMALL = "small", "Small (corner)"
        MEDIUM = "medium", "Medium (corner, longer)"
        LARGE = "large", "Large (takes over the player)"

    class Animation(models.TextChoices):
        POP = "pop", "Pop"
        FLOAT = "float", "Float up"
        SPIN = "spin", "Spin"
        BOUNCE = "bounce", "Bounce"
        SHOWER = "shower", "Shower"
        FLY = "fly", "Fly across"

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=40)
    price = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="In coins.")
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.SMALL)
    animation = models.CharField(max_length=10, choices=Animation.choices, default=Animation.POP)
    # Uploads are raster images (Pillow-validated): an uploaded SVG could carry script.
    image = models.ImageField(upload_to="gifts/", blank=True)
    artwork = models.CharField(
        max_length=100,
        blank=True,
        help_text="Bundled artwork under static/, e.g. gifts/art/rose.svg (used without an image).",
    )
    sort_order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "price", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.price} coins)"

    @property
    def image_url(self) -> str:
        if self.image:
            return self.image.url
        return static(self.artwork) if self.artwork else ""


class Balance(models.Model):
    """A running total of one currency for one user, spread over `slot` rows.

    Coins always live in slot 0 (a debit must check one row). Diamonds are
    credited to one of several slots so that many senders gifting one big
    broadcaster do not queue on a single row lock; the balance is the sum.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gift_balances"
    )
    currency = models.CharField(max_length=10, choices=Currency.choices)
    slot = models.PositiveSmallIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "currency", "slot"], name="gifts_one_balance_per_slot"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="gifts_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.amount} {self.currency} (slot {self.slot})"


class Transfer(models.Model):
    """One movement of value; its ledger entries share its id."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Coin purchase"
        GRANT = "grant", "Grant (admin top-up, demo coins)"
        GIFT = "gift", "Gift"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for it (the buyer, the sender, the admin).",
    )
    # NULL rather than "": keyless transfers (grants) must never collide in the constraint below.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    memo = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="Payment reference.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # NULL keys never collide: grants without a key are not deduplicated.
            models.UniqueConstraint(
                fields=["initiator", "idempotency_key"], name="gifts_one_transfer_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} ({self.kind})"


class LedgerEntry(models.Model):
    """A signed amount of one currency moved to (+) or from (-) one user's balance."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    currency = models.CharField(max_length=10, choices=Currency.choices)
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["user", "currency", "id"], name="gifts_entry_history")]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.currency} for {self.user_id} in transfer {self.transfer_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only.")


class GiftSend(models.Model):
    """What a gift transfer was: who sent what to whom, in which stream, in which combo."""

    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, primary_key=True, related_name="gift_send"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gifts_sent"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gifts_received"
    )
    room = models.ForeignKey(
        "rooms.Room", on_delete=models.SET_NULL, null=True, related_name="gift_sends"
    )
    stream = models.ForeignKey(
        "rooms.Stream", on_delete=models.SET_NULL, null=True, related_name="gift_sends"
    )
    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="sends")
    quantity = models.PositiveIntegerField()
    coins = models.BigIntegerField(help_text="Debited from the sender.")
    diamonds = models.BigIntegerField(help_text="Credited to the recipient.")
    sender_balance_after = models.BigIntegerField()
    combo_id = models.BigIntegerField(help_text="Transfer id of the first send of the combo.")
    combo_count = models.PositiveIntegerField(default=1, help_text="Sends in the combo so far.")
    combo_total = models.PositiveIntegerField(default=1, help_text="Gifts in the combo so far.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="gifts_send_by_recipient"),
            models.Index(fields=["created_at"], name="gifts_send_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id} sent {self.quantity} x {self.gift_id} to {self.recipient_id}"


class GiftStats(models.Model):
    """Figures a Celery task recomputes from the gift sends (never increments)."""

    sends = models.PositiveIntegerField(default=0)
    gifts = models.PositiveIntegerField(default=0, help_text="Sum of quantities.")
    coins = models.BigIntegerField(default=0)
    diamonds = models.BigIntegerField(default=0)
    unique_gifters = models.PositiveIntegerField(default=0)
    top_gift = models.ForeignKey(Gift, on_delete=models.SET_NULL, null=True, related_name="+")
    top_gift_coins = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class StreamGiftStats(GiftStats):
    stream = models.OneToOneField(
        "rooms.Stream", on_delete=models.CASCADE, primary_key=True, related_name="gift_stats"
    )
    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stream_gift_stats"
    )

    class Meta:
        verbose_name_plural = "stream gift statistics"

    def __str__(self) -> str:
        return f"gifts in stream {self.stream_id}"


class DailyGiftStats(GiftStats):
    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_gift_stats"
    )
    day = models.DateField()

    class Meta:
        verbose_name_plural = "daily gift statistics"
        constraints = [
            models.UniqueConstraint(fields=["broadcaster", "day"], name="gifts_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"gifts to {self.broadcaster_id} on {self.day}"
