"""What moderation stores: rules, restrictions, reports, the review queue and the audit log.

Only moderation.services writes these tables. Restrictions are the truth about
bans and timeouts; moderation.enforcement keeps the active ones in the shared
cache for the per-message check.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone

from moderation.filtering.rules import ALLOW_ALL, ALLOW_LIST, BLOCK, BLOCK_ALL, HOLD

USER = settings.AUTH_USER_MODEL


class FilterAction(models.TextChoices):
    BLOCK = "block", "Block (the sender is told why)"
    HOLD = "hold", "Hold for review"
    MASK = "mask", "Mask with asterisks"


class BlockedTermRule(models.Model):
    """A blocked word or phrase, for one room or (room empty) for the whole site."""

    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the term applies in every room.",
    )
    term = models.CharField(max_length=200)
    action = models.CharField(max_length=5, choices=FilterAction.choices, default=BLOCK)
    whole_word = models.BooleanField(
        default=True, help_text="Match only whole words (leaves “Scunthorpe” alone)."
    )
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "term"], name="moderation_one_rule_per_term")
        ]

    def __str__(self) -> str:
        return self.term


class RoomRules(models.Model):
    """A room's link policy, flood limits and followers-only mode (defaults in moderation.conf)."""

    class LinkMode(models.TextChoices):
        ALLOW_ALL = ALLOW_ALL, "Allow every link"
        BLOCK_ALL = BLOCK_ALL, "Block every link"
        ALLOW_LIST = ALLOW_LIST, "Allow links to listed sites only"

    class FloodAction(models.TextChoices):
        BLOCK = BLOCK, "Block"
        HOLD = HOLD, "Hold for review"

    room = models.OneToOneField("rooms.Room", on_delete=models.CASCADE, related_name="+")
    link_mode = models.CharField(max_length=10, choices=LinkMode.choices, default=ALLOW_ALL)
    allowed_domains = models.TextField(blank=True, help_text="One domain a line.")
    link_action = models.CharField(max_length=5, choices=FilterAction.choices, default=BLOCK)
    max_caps_ratio = models.FloatField(null=True, blank=True, default=0.7)
    min_letters_for_caps = models.PositiveSmallIntegerField(default=12)
    max_emoji = models.PositiveSmallIntegerField(null=True, blank=True, default=10)
    max_repeated_chars = models.PositiveSmallIntegerField(null=True, blank=True, default=12)
    flood_action = models.CharField(max_length=5, choices=FloodAction.choices, default=BLOCK)
    followers_only = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "room rules"

    def __str__(self) -> str:
        return f"rules of room {self.room_id}"

    def domain_list(self) -> list[str]:
        return [line.strip() for line in self.allowed_domains.splitlines() if line.strip()]


class RestrictionQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class Restriction(models.Model):
    """A ban or a timeout of a user, in one room or (room empty) on the whole site."""

    class Kind(models.TextChoices):
        TIMEOUT = "timeout", "Timeout"
        BAN = "ban", "Ban"

    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: banned from the whole site.",
    )
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="restrictions")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "room", "lifted_at"], name="moderation_restr_user"),
            models.Index(fields=["room", "lifted_at"], name="moderation_restr_room"),
        ]

    def __str__(self) -> str:
        where = f"room {self.room_id}" if self.room_id else "the site"
        return f"{self.get_kind_display()} of {self.user_id} in {where}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > now)


class ReviewItem(models.Model):
    """One thing in the review queue: a message, a user in a room, or a room.

    Held messages, messages the delayed scoring flagged, and reports all land
    here; reports of the same target while it is open join the same item.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        USER = "user", "User"
        ROOM = "room", "Room"

    class Source(models.TextChoices):
        HELD = "held", "Held by the filter"
        SCORED = "scored", "Flagged by scoring"
        REPORTED = "reported", "Reported"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=7, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    reason = models.CharField(max_length=40, help_text="What fired first, e.g. blocked_term, spam.")
    reasons = models.JSONField(default=list, blank=True)
    score = models.FloatField(null=True, blank=True)
    report_count = models.PositiveIntegerField(default=0)
    room = models.ForeignKey(
        "rooms.Room", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        "chat.ChatMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # messages are written in batches by chat.writer; never wait on them
    )
    user = models.ForeignKey(
        USER,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who wrote the message, or the reported user.",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    # The target while the item is open, else NULL: one open item per target.
    open_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    resolution = models.CharField(max_length=20, blank=True)
    resolved_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "-created_at"], name="moderation_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.target_id} ({self.get_source_display()})"

    @property
    def target_id(self):
        if self.kind == self.Kind.MESSAGE:
            return self.message_id
        return self.user_id if self.kind == self.Kind.USER else self.room_id


class Report(models.Model):
    """A viewer's report of a message, a user or a room; joins the target's open review item."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or scam"
        HARASSMENT = "harassment", "Harassment or bullying"
        HATE = "hate", "Hate speech"
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Violence or threats"
        SELF_HARM = "self_harm", "Self-harm"
        UNDERAGE = "underage", "Someone under age"
        OTHER = "other", "Something else"

    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    details = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review_item", "reporter"], name="moderation_one_report_per_reporter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reporter_id} reported {self.review_item_id} ({self.reason})"


def snapshot_path(snapshot: "StreamSnapshot", filename: str) -> str:
    return f"moderation/snapshots/{snapshot.room_id}/{filename}"


class StreamSnapshot(models.Model):
    """A still of a reported live stream (the transcoder's thumbnail), kept for review."""

    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="snapshots")
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    stream = models.ForeignKey(
        "rooms.Stream", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    image = models.ImageField(upload_to=snapshot_path)
    taken_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"snapshot of room {self.room_id} at {self.taken_at:%Y-%m-%d %H:%M:%S}"


class AuditEntry(models.Model):
    """One moderation action: who did what, to whom, where, when and why. Never edited."""

    actor = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the automatic filter or scoring.",
    )
    action = models.CharField(max_length=40)
    room = models.ForeignKey(
        "rooms.Room", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.BigIntegerField(null=True, blank=True)
    review_item = models.ForeignKey(
        ReviewItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit"
    )
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id or 'system'} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Audit entries are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit entries are never deleted.")
